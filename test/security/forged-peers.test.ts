// Identity, not claims (TLS off, the default): a peer that reaches the ports with a raw
// grpc-js client built from proto/ forges what issue 12 found, while an exactly-once job
// runs. Each forgery must be refused, and the job must end with exact output and no restart.
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, freePort, TestCluster, waitFor, type JobStatusJson } from '../harness';
import { grpc, insecure, rawConsume, rawSession } from './raw-peer';

const N = 160_000;
const KEYS = 40;

describe('forged TaskManager and exchange messages are refused (internal TLS off)', () => {
  let cluster: TestCluster;
  let jobId: string;
  let status: JobStatusJson;
  const dataPorts: number[] = [];
  let victim: string;
  let out: string;

  beforeAll(async () => {
    cluster = new TestCluster({ 'heartbeat.interval': 500, 'heartbeat.timeout': 5000 }, 'weir-forged-');
    await cluster.startJobManager();
    for (let i = 0; i < 2; i++) {
      dataPorts.push(await freePort());
      await cluster.startTaskManager(1, { 'taskmanager.data.port': dataPorts[i] });
    }
    out = path.join(cluster.dir, 'out');
    victim = path.join(cluster.dir, 'precious', 'victim.txt');
    mkdirSync(path.dirname(victim), { recursive: true });
    writeFileSync(victim, 'do not delete\n');
    jobId = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(N), String(KEYS), '8000', '300'], ['-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=5', '-D', 'restart-strategy.fixed-delay.delay=200ms']);
    await waitFor('a completed checkpoint', async () => (await cluster.checkpoints(jobId)).completed >= 1, 30_000);
    status = await cluster.status(jobId);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  const task = (vertex: number, subtask: number) => {
    const v = status.vertices[vertex];
    return { job_id: jobId, vertex_id: v.id, subtask, attempt: v.subtasks[subtask].attempt };
  };
  const register = (id: string, slots: { index: number; data_address: string }[] = []) => ({ register: { taskmanager_id: id, host: '127.0.0.1', slots, metrics_port: 1, pid: 1 } });

  it('an acknowledgement naming files outside the checkpoint directory deletes nothing', async () => {
    const jobDir = path.join(cluster.checkpointDir, jobId);
    const chk = path.join(jobDir, 'chk-999999');
    mkdirSync(chk, { recursive: true });
    const link = path.join(chk, 'link.state');
    symlinkSync(victim, link);
    const handle = (p: string) => ({ operator_uid: '*', path: p, size: 1, checksum: 'x', key_group_start: 0, key_group_end: 0 });
    const paths = [victim, `${chk}/../../../precious/victim.txt`, link];
    for (const attempt of [task(1, 0).attempt, task(1, 0).attempt - 1]) {
      const r = await rawSession(cluster.address, insecure(), [
        register(`forger-ack-${attempt}`),
        { ack: { task: { ...task(1, 0), attempt }, checkpoint_id: 999999, handles: paths.map(handle), state_size: 1, sync_duration_ms: 0, async_duration_ms: 0, alignment_duration_ms: 0, acknowledged_at: Date.now() } },
      ], 800);
      expect(r.code).toBeUndefined(); // the session itself is allowed (TLS off): the claim is what is refused
    }
    expect(existsSync(victim)).toBe(true);
    expect(existsSync(path.dirname(victim))).toBe(true);
  });

  it('a task state FAILED for a task the sender never ran does not fail the job over', async () => {
    const r = await rawSession(cluster.address, insecure(), [
      register('forger-state'),
      { task_state: { task: task(1, 1), state: 'FAILED', error: 'forged', timestamp: Date.now() } },
      { decline: { task: task(1, 1), checkpoint_id: (await cluster.checkpoints(jobId)).completed + 1, reason: 'forged' } },
    ], 1000);
    expect(r.received).toContain('registered');
    const s = await cluster.status(jobId);
    expect(s.summary.state).toBe('RUNNING');
    expect(s.summary.restarts).toBe(0);
  });

  it('RegisterTaskManager with the id of a live TaskManager is refused; the real one stays', async () => {
    const before = await cluster.listTaskManagers();
    const r = await rawSession(cluster.address, insecure(), [register(before[0].id, [{ index: 0, data_address: '127.0.0.1:1' }])], 1000);
    expect(r.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(r.received).not.toContain('registered');
    const after = await cluster.listTaskManagers();
    expect(after.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort());
    expect((await cluster.status(jobId)).summary.restarts).toBe(0);
  });

  it('a partition request without the attempt\'s exchange token gets no record', async () => {
    // The key is built from what `weir status` (and REST) show: job, attempt, vertices, subtasks.
    for (const [subtask, sub] of status.vertices[0].subtasks.entries()) {
      const pid = Number(sub.taskmanager_id.split('-').at(-2));
      const port = dataPorts[cluster.taskmanagers.findIndex((t) => t.pid === pid)];
      for (const token of ['', 'guessed-token']) {
        const r = await rawConsume(`127.0.0.1:${port}`, insecure(), {
          job_id: jobId, attempt: sub.attempt, producer_vertex_id: status.vertices[0].id, producer_subtask: subtask,
          consumer_vertex_id: status.vertices[1].id, consumer_subtask: 0, initial_credit: 1000, token,
        }, 2000);
        expect(r.records).toBe(0);
        expect(r.code).toBe(grpc.status.PERMISSION_DENIED);
      }
    }
  });

  it('the job ends FINISHED with no restart and exact output', async () => {
    const done = await cluster.waitForState(jobId, ['FINISHED', 'FAILED', 'CANCELED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(0);
    expect(diffLines(committedLines(out), expectedKeyedSum(N, KEYS))).toEqual({ missing: [], extra: [] });
    expect(existsSync(victim)).toBe(true);
  });
});

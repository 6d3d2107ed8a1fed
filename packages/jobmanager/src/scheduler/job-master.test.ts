import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configuration, type DeployTask, type JobGraph } from '@weir/core';
import { ResourceManager } from '../resource-manager';
import { JobMaster } from './job-master';

const log = pino({ level: 'silent' });
let root: string;
let rm: ResourceManager;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'weir-jobmaster-'));
  rm = new ResourceManager(60_000, 10_000, log);
});
afterEach(() => {
  rm.close();
  rmSync(root, { recursive: true, force: true });
});

/** One TaskManager with one slot whose messages are kept instead of sent. */
function taskmanager(): Record<string, unknown>[] {
  const sent: Record<string, unknown>[] = [];
  rm.register({ taskmanager_id: 'tm-1', host: 'h', slots: [{ index: 0, data_address: 'h:1' }], metrics_port: 0, pid: 1 }, (m) => void sent.push(m as Record<string, unknown>), () => {});
  return sent;
}

const graph: JobGraph = {
  name: 'bounded', vertices: [{ id: 'v1', name: 'source', parallelism: 1, max_parallelism: 128, operators: [], is_source: true }], edges: [],
  checkpoint_interval_ms: 0, checkpointing_mode: 'EXACTLY_ONCE', bounded: true, config: {},
};

describe('job master', () => {
  it('aborts a checkpoint still in flight when the job finishes: none stays in progress (finding 4)', async () => {
    const sent = taskmanager();
    const config = new Configuration({ 'execution.checkpointing.interval': '60000', 'state.checkpoints.dir': root });
    const master = new JobMaster({ jobId: 'job-1', graph, bundle: Buffer.from('x'), args: [], config, submittedAt: 0 }, rm, log, { persist: () => {} }, root);
    await master.start();
    for (let i = 0; i < 100 && !sent.some((m) => m.deploy); i++) await new Promise((r) => setImmediate(r));
    const deploy = sent.find((m) => m.deploy)?.deploy as DeployTask;
    master.onTaskState({ task: deploy.task, state: 'RUNNING', error: '', timestamp: 0 });
    // A periodic checkpoint goes out just as the task finishes; it will never be acknowledged.
    const id = master.coordinator.triggerCheckpoint(false);
    expect(id).toBe(1);
    master.onTaskState({ task: deploy.task, state: 'FINISHED', error: '', timestamp: 0 });
    expect(master.state).toBe('FINISHED');
    expect(master.coordinator.pendingCount()).toBe(0);
    expect(master.coordinator.stats.counts.in_progress).toBe(0);
    expect(master.coordinator.stats.get(1)).toMatchObject({ status: 'FAILED', failure_reason: 'job finished' });
  });

  it('a restarted JobManager that finds the newest _metadata damaged fails the job at once, naming it and the whole older checkpoint', async () => {
    taskmanager();
    const jobDir = path.join(root, 'job-2');
    mkdirSync(path.join(jobDir, 'chk-1'), { recursive: true });
    writeFileSync(path.join(jobDir, 'chk-1', '_metadata'), JSON.stringify({ jobId: 'job-2', id: 1, triggeredAt: 1, completedAt: 2, final: false, handles: {}, path: path.join(jobDir, 'chk-1') }));
    mkdirSync(path.join(jobDir, 'chk-2'));
    writeFileSync(path.join(jobDir, 'chk-2', '_metadata'), '{"jobId": "job-2", "id": 2, "hand');
    const config = new Configuration({ 'execution.checkpointing.interval': '60000', 'state.checkpoints.dir': root, 'state.checkpoints.num-retained': '2' });
    const master = new JobMaster({ jobId: 'job-2', graph, bundle: Buffer.from('x'), args: [], config, submittedAt: 0 }, rm, log, { persist: () => {} }, root);
    await master.start(true);
    expect(master.state).toBe('FAILED');
    expect(master.failureCause).toBe(
      `damaged checkpoint state, not restarting: checkpoint 2 cannot be used: checkpoint metadata ${path.join(jobDir, 'chk-2', '_metadata')} is corrupt: it is not valid JSON (33 bytes). ` +
        `Retained checkpoints that are still whole: checkpoint 1 (${path.join(jobDir, 'chk-1')}). ` +
        'Weir does not fall back to an older checkpoint by itself: a committing sink has already made the output written after it visible, and restoring it would write that output again.',
    );
    expect(rm.freeSlots()).toBe(1);
  });
});

/**
 * A loopback cluster with `state.checkpoints.dir` on a real S3 server: what a checkpoint
 * costs in requests (tiny state inline: one PUT, the metadata; state files: one PUT each),
 * `weir checkpoints` and the metrics saying so, and a JobManager restarted on the same
 * store resuming the job from the newest `_metadata` it lists in the bucket.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, TestCluster, waitFor, weir } from '../harness';
import { startS3Server, type S3Server } from './s3-server';

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket('weir');
}, 900_000);
afterAll(() => server?.stop());

const keysUnder = (prefix: string): Promise<string[]> => server.keysUnder('weir', prefix);

const readObject = (key: string): Promise<string> => server.readObject('weir', key);

describe('checkpoints in a real S3 server', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('tiny state stays inline: each checkpoint is one PUT (its _metadata); with state files, one PUT per task more', async () => {
    const inline = { ...server.config, 'state.checkpoints.dir': 's3://weir/inline', 'state.storage.fs.memory-threshold': '20kb' };
    cluster = await new TestCluster(inline).start(2);
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [path.join(cluster.dir, 'out'), '100000000', '20', '2000', '300'], ['-p', '2']);
    await waitFor('3 completed checkpoints', async () => (await cluster!.checkpoints(id)).completed >= 3, 60_000, 300);
    await cluster.cli(['cancel', id]); // the latest checkpoint stays (RETAIN_ON_CANCELLATION)
    const cps = await cluster.checkpoints(id);
    const h = cps.history.find((x) => x.id === cps.latest_completed?.id) as unknown as { id: number; put_count: number };
    // Every state file is one PUT, the metadata one more; inline state costs none.
    const keys = await keysUnder(`inline/${id}/chk-${h.id}/`);
    const metadata = JSON.parse(await readObject(`inline/${id}/chk-${h.id}/_metadata`)) as { handles: Record<string, { path: string }[]> };
    const handles = Object.values(metadata.handles).flat();
    const files = handles.filter((x) => x.path !== '');
    expect(handles.length).toBe(4);
    expect(files.length).toBeLessThan(4); // the sources' and the sums' state is tiny
    expect(h.put_count).toBe(1 + files.length);
    expect(keys.length).toBe(1 + files.length);
    const table = (await cluster.cli(['checkpoints', id])).stdout;
    expect(table).toMatch(/PUTS\s+WRITTEN/);
    await cluster.stop();

    cluster = await new TestCluster({ ...inline, 'state.checkpoints.dir': 's3://weir/files', 'state.storage.fs.memory-threshold': 0 }).start(2);
    const id2 = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [path.join(cluster.dir, 'out'), '100000000', '20', '2000', '300'], ['-p', '2']);
    await waitFor('2 completed checkpoints', async () => (await cluster!.checkpoints(id2)).completed >= 2, 60_000, 300);
    await cluster.cli(['cancel', id2]);
    const cps2 = await cluster.checkpoints(id2);
    const first = cps2.history.find((x) => x.id === cps2.latest_completed?.id) as unknown as { id: number; put_count: number };
    // 4 tasks (2 sources, 2 keyed) write a file each, then the metadata.
    expect(first.put_count).toBe(5);
    expect(await keysUnder(`files/${id2}/chk-${first.id}/`)).toEqual(
      ['_metadata', 'v1-0.state', 'v1-1.state', 'v2-0.state', 'v2-1.state'].map((f) => `files/${id2}/chk-${first.id}/${f}`),
    );
    const metrics = await (await fetch(`http://127.0.0.1:${cluster.restPort}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`weir_job_last_checkpoint_put_count\\{job_id="${id2}",job_name="keyed-sum"\\} 5`));
    expect(metrics).toMatch(new RegExp(`weir_job_last_checkpoint_bytes_written\\{job_id="${id2}",job_name="keyed-sum"\\} \\d+`));
  }, 240_000);

  it('file merging: the state files of one TaskManager\'s tasks are one object per checkpoint; a new TaskManager restores from it after kill -9, exact output', async () => {
    // Retention keeps 5: the checkpoint looked at below stays while the job goes on.
    cluster = new TestCluster({ ...server.config, 'state.checkpoints.dir': 's3://weir/merged', 'state.storage.fs.memory-threshold': 0, 'state.checkpoints.num-retained': 5 });
    await cluster.startJobManager();
    const first = await cluster.startTaskManager(2); // all 4 tasks of the job (2 sources, 2 sums) on this one
    const out = path.join(cluster.dir, 'out');
    const n = 40_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '30', '4000', '500'], [
      '-p', '2', '-D', 'execution.checkpointing.file-merging.enabled=true',
      '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=20', '-D', 'restart-strategy.fixed-delay.delay=200ms',
    ]);
    const cps = await waitFor('2 completed checkpoints', async () => {
      const c = await cluster!.checkpoints(id);
      return c.completed >= 2 ? c : undefined;
    }, 60_000, 300);
    // One merged object (1 PUT) and the metadata, where 4 state files took 5 PUTs.
    const latest = cps.history.find((x) => x.id === cps.latest_completed?.id) as unknown as { id: number; put_count: number };
    expect(latest.put_count).toBe(2);
    const keys = await keysUnder(`merged/${id}/chk-${latest.id}/`);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(`merged/${id}/chk-${latest.id}/_metadata`);
    expect(keys[1]).toMatch(new RegExp(`^merged/${id}/chk-${latest.id}/tm-.*\\.merged$`));
    const metadata = JSON.parse(await readObject(keys[0])) as { handles: Record<string, { path: string; shared: boolean; offset: number }[]> };
    const handles = Object.values(metadata.handles).flat();
    expect(handles.map((h) => [h.path, h.shared])).toEqual(handles.map(() => [keys[1].split('/').at(-1), true]));
    expect(new Set(handles.map((h) => h.offset)).size).toBe(4);
    // The TaskManager dies; a new one restores every task from its byte range of the merged object.
    cluster.kill(first.pid);
    await waitFor('the killed TaskManager to be lost', async () => (await cluster!.listTaskManagers()).length === 0, 30_000, 200);
    await cluster.startTaskManager(2);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 120_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBeGreaterThanOrEqual(1);
    expect(done.last_restore_checkpoint_id).toBeGreaterThan(0);
    const diff = diffLines(committedLines(out), expectedKeyedSum(n, 30));
    expect({ missing: diff.missing.length, extra: diff.extra.length, firstMissing: diff.missing.slice(0, 3), firstExtra: diff.extra.slice(0, 3) }).toEqual({ missing: 0, extra: 0, firstMissing: [], firstExtra: [] });
  }, 240_000);

  it('a JobManager killed and restarted finds the newest _metadata in the bucket and resumes the job from it: exact output', async () => {
    cluster = new TestCluster({ ...server.config, 'state.checkpoints.dir': 's3://weir/resume', 'state.storage.fs.memory-threshold': '20kb' });
    await cluster.start(2);
    const out = path.join(cluster.dir, 'out');
    const n = 40_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '30', '4000', '300'], ['-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=20', '-D', 'restart-strategy.fixed-delay.delay=200ms']);
    await waitFor('2 completed checkpoints', async () => (await cluster!.checkpoints(id)).completed >= 2, 60_000, 300);
    process.kill(cluster.jobmanager?.pid as number, 'SIGKILL');
    await cluster.startJobManager();
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 120_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.last_restore_checkpoint_id).toBeGreaterThan(0);
    const diff = diffLines(committedLines(out), expectedKeyedSum(n, 30));
    expect({ missing: diff.missing.length, extra: diff.extra.length, firstMissing: diff.missing.slice(0, 3), firstExtra: diff.extra.slice(0, 3) }).toEqual({ missing: 0, extra: 0, firstMissing: [], firstExtra: [] });
  }, 240_000);

  it('each bad setting is one line: a bad s3:// URL stops the JobManager; a missing bucket and wrong credentials fail checkpoints with the reason', async () => {
    const bad = await weir(['jobmanager', '-D', 'state.checkpoints.dir=s3:///checkpoints', '-D', 'jobmanager.rpc.port=0', '-D', 'rest.port=0'], { timeoutMs: 30_000 });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('weir: state.checkpoints.dir: "s3:///checkpoints" names no bucket: write s3://bucket/path');

    const cases: [Record<string, string>, string][] = [
      [{ 'state.checkpoints.dir': 's3://no-such-bucket/checkpoints' }, `bucket "no-such-bucket" does not exist at ${server.endpoint}`],
      [{ 's3.secret-key': 'not-the-secret' }, `${server.endpoint} refused the credentials for bucket "weir" (SignatureDoesNotMatch): check s3.access-key and s3.secret-key or the AWS credential chain`],
    ];
    for (const [settings, reason] of cases) {
      cluster = await new TestCluster({ ...server.config, 'state.checkpoints.dir': 's3://weir/bad', 's3.retry.limit': 0, ...settings }).start(1);
      const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [path.join(cluster.dir, 'out'), '100000000', '20', '1000', '300'], [
        '-D', 'execution.checkpointing.tolerable-failed-checkpoints=100',
      ]);
      const failed = await waitFor('a failed checkpoint', async () => (await cluster!.checkpoints(id)).history.find((h) => h.status === 'FAILED'), 60_000, 300);
      expect(failed.failure_reason).toContain(reason);
      expect(failed.failure_reason.split('\n')).toHaveLength(1);
      await cluster.stop();
      cluster = undefined;
    }
  }, 240_000);
});

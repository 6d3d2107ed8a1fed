/**
 * Savepoints in a real S3 server (`state.savepoints.dir=s3://...`): taken while the job
 * runs and with stop-with-savepoint, each resumed with `weir run -s s3://...` at another
 * parallelism; the committed output of the whole chain is exactly what one uninterrupted
 * run computes. A savepoint's own write requests (the copies of its state files, its
 * `_metadata`) are counted in its statistics.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, expectedKeyedSum, TestCluster, waitFor } from '../harness';
import { startS3Server, type S3Server } from './s3-server';

const SUM = path.join(__dirname, '..', 'jobs', 'savepoint-sum.ts');
const KEYS = 20;
// No periodic checkpoint between a savepoint and the cancel after it (600 s interval); slow
// jobs are interrupted far from their end, the last one runs fast to its end.
const sumArgs = (out: string, n: number, rate: number) => [out, String(n), String(KEYS), String(rate), '600000', 'v1'];

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket('weir');
}, 900_000);
afterAll(() => server?.stop());

const keysUnder = (prefix: string): Promise<string[]> => server.keysUnder('weir', prefix);

async function emitted(cluster: TestCluster, jobId: string): Promise<number> {
  const s = (await cluster.status(jobId)) as unknown as { vertices: { subtasks: { records_out: number }[] }[] };
  return s.vertices[0].subtasks.reduce((n, t) => n + t.records_out, 0);
}

async function resume(cluster: TestCluster, savepoint: string, args: string[], parallelism: number): Promise<string> {
  const r = await cluster.cli(['run', SUM, '--detached', '-s', savepoint, '-p', String(parallelism), '--', ...args]);
  const jobId = /JobID ([0-9a-f]{32})/.exec(r.stdout)?.[1];
  if (r.code !== 0 || !jobId) throw new Error(`resume failed (${r.code}): ${r.stderr}`);
  expect(r.stdout).toContain(`Restoring from savepoint ${savepoint}`);
  return jobId;
}

type History = { id: number; status: string; path: string; is_savepoint?: boolean; put_count: number; bytes_written: number }[];

describe('savepoints in a real S3 server', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('savepoint -> cancel -> resume from s3:// at parallelism 3 -> stop with savepoint -> resume at 1: output exact, PUTs counted', async () => {
    cluster = await new TestCluster({
      ...server.config,
      'state.checkpoints.dir': 's3://weir/checkpoints',
      'state.savepoints.dir': 's3://weir/savepoints',
      // Every task's state in a file of its own, so that the savepoint has files to take along.
      'state.storage.fs.memory-threshold': 0,
    }).start(2, 2);
    const out = path.join(cluster.dir, 'out');
    const n = 120_000;

    // 1. A savepoint into the configured s3:// directory while the job runs, then cancel.
    const first = await cluster.submit(SUM, sumArgs(out, n, 3_000), ['-p', '2']);
    await waitFor('records to flow', async () => (await emitted(cluster!, first)) >= 4_000, 60_000, 200);
    const taken = await cluster.cli(['savepoint', first], 180_000);
    const sp1 = /Savepoint completed\. Path: (\S+)/.exec(taken.stdout)?.[1] as string;
    expect([taken.code, taken.stderr]).toEqual([0, expect.stringContaining(`Triggering savepoint for job ${first}.`)]);
    expect((await cluster.cli(['cancel', first])).code).toBe(0);
    expect(sp1).toMatch(new RegExp(`^s3://weir/savepoints/savepoint-${first.slice(0, 6)}-[0-9a-f]{12}$`));
    // The savepoint is self-contained in the bucket: its state files (one per task) and `_metadata`.
    const prefix = sp1.slice('s3://weir/'.length);
    const objects = await keysUnder(`${prefix}/`);
    const files = objects.filter((k) => k.endsWith('.state'));
    expect(objects).toEqual([`${prefix}/_metadata`, ...files].sort());
    expect(files).toHaveLength(4); // source and running sum at parallelism 2
    // Its cost: the tasks' PUTs, one server-side copy per file into the savepoint, the metadata.
    const history = ((await cluster.checkpoints(first)) as unknown as { history: History }).history;
    const entry = history.find((h) => h.path === sp1);
    expect(entry).toMatchObject({ status: 'COMPLETED', is_savepoint: true });
    expect(entry?.put_count).toBe(files.length + files.length + 1);

    // 2. Resumed from S3 at parallelism 3; then stop with a savepoint (again s3://, the configured directory).
    const second = await resume(cluster, sp1, sumArgs(out, n, 3_000), 3);
    await cluster.waitForState(second, ['RUNNING']);
    await waitFor('records to flow', async () => (await emitted(cluster!, second)) >= 4_000, 60_000, 200);
    const stop = await cluster.cli(['stop', second], 180_000);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`Job ${second}: FINISHED`);
    const sp2 = /Savepoint completed\. Path: (\S+)/.exec(stop.stdout)?.[1] as string;
    expect(sp2).toMatch(/^s3:\/\/weir\/savepoints\/savepoint-/);
    expect(await keysUnder(`${sp2.slice('s3://weir/'.length)}/`)).toContain(`${sp2.slice('s3://weir/'.length)}/_metadata`);

    // 3. Resumed at parallelism 1, run to its end: every line of the three jobs, none twice.
    const third = await resume(cluster, sp2, sumArgs(out, n, 200_000), 1);
    const done = await cluster.waitForState(third, ['FINISHED', 'FAILED'], 120_000);
    expect(done.summary.state).toBe('FINISHED');
    expect((done as unknown as { restored_from: string }).restored_from).toBe(sp2);
    const diff = diffLines(committedLines(out), expectedKeyedSum(n, KEYS));
    expect({ missing: diff.missing.length, extra: diff.extra.length, firstMissing: diff.missing.slice(0, 3), firstExtra: diff.extra.slice(0, 3) })
      .toEqual({ missing: 0, extra: 0, firstMissing: [], firstExtra: [] });
  }, 420_000);
});

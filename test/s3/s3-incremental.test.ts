/**
 * Incremental checkpoints of the lmdb backend on a real S3 server: the changelog chain
 * (a full materialisation, then deltas) lies under `<job>/shared/` in the bucket, a new
 * TaskManager restores the chain from s3:// after the old one is killed with SIGKILL,
 * and the committed output is exactly what one uninterrupted run computes. Once with
 * small task files inline in `_metadata`; once with every task file an object of its own
 * under an entropy-injected prefix (the chain stays at the plain prefix, where the sweep
 * lists it).
 */
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, TestCluster, waitFor } from '../harness';
import { startS3Server, type S3Server } from './s3-server';

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket('weir');
}, 900_000);
afterAll(() => server?.stop());

const keysUnder = (prefix: string): Promise<string[]> => server.keysUnder('weir', prefix);
const readObject = (key: string): Promise<string> => server.readObject('weir', key);

describe('incremental checkpoints in a real S3 server', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  const cases: { name: string; prefix: string; settings: Record<string, string | number>; inline: number }[] = [
    { name: 'small task files inline', prefix: 'inline', settings: { 'state.storage.fs.memory-threshold': '20kb' }, inline: 4 },
    { name: 'every task file an object, entropy injection', prefix: 'entropy', settings: { 's3.entropy.key': '_entropy_', 'state.storage.fs.memory-threshold': 0 }, inline: 0 },
  ];
  it.each(cases)('lmdb with a changelog chain in s3://…/shared/ ($name): a new TaskManager restores it after kill -9, exact output; a finished job leaves no object', async ({ prefix, settings, inline }) => {
    const root = `incremental-${prefix}`;
    cluster = new TestCluster({
      ...server.config,
      ...settings,
      'state.checkpoints.dir': 's3.entropy.key' in settings ? `s3://weir/_entropy_/${root}` : `s3://weir/${root}`,
      'state.backend.type': 'lmdb',
      'state.backend.lmdb.localdir': path.join(os.tmpdir(), `weir-test-s3-lmdb-${process.pid}`),
      'execution.checkpointing.incremental': 'true',
      'state.backend.changelog.max-chain-length': 3,
      'state.checkpoints.num-retained': 2,
    });
    await cluster.startJobManager();
    const first = await cluster.startTaskManager(2);
    const out = path.join(cluster.dir, 'out');
    const n = 60_000;
    const keys = 500;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), String(keys), '4000', '300'], [
      '-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=20', '-D', 'restart-strategy.fixed-delay.delay=200ms',
    ]);
    // Wait for a completed checkpoint whose chain holds a delta: the restore must apply one.
    const chain = await waitFor('a completed checkpoint with a delta in its chain', async () => {
      const latest = (await cluster!.checkpoints(id)).latest_completed?.id;
      if (!latest) return undefined;
      const meta = JSON.parse(await readObject(`${root}/${id}/chk-${latest}/_metadata`).catch(() => '{"handles":{}}')) as { handles: Record<string, { path: string }[]> };
      const paths = Object.values(meta.handles).flat().map((h) => h.path);
      return paths.some((p) => /-delta\.state$/.test(p)) ? paths : undefined;
    }, 60_000, 200);
    // Each task's own file (operator and sink state, keyed state apart) is small: inline in _metadata unless the threshold is 0.
    expect(chain.filter((p) => p === '')).toHaveLength(inline);
    // The chain's files are objects under the job's shared/ prefix (never entropy-injected), not in a chk- directory.
    const chainFiles = chain.filter((p) => /-(full|delta)(-\d+)?\.state$/.test(p));
    expect(chainFiles.length).toBeGreaterThan(0);
    for (const p of chainFiles) expect(p).toMatch(new RegExp(`^s3://weir/${root}/${id}/shared/chk\\d+-`));
    const taskFiles = chain.filter((p) => p !== '' && !chainFiles.includes(p));
    expect(taskFiles).toHaveLength(4 - inline);
    const taskPrefix = 's3.entropy.key' in settings ? `[a-z0-9]{4}/${root}` : root;
    for (const p of taskFiles) expect(p).toMatch(new RegExp(`^s3://weir/${taskPrefix}/${id}/chk-\\d+/`));
    const shared = await keysUnder(`${root}/${id}/shared/`);
    for (const p of chainFiles) expect(shared).toContain(p.replace('s3://weir/', ''));

    cluster.kill(first.pid);
    await waitFor('the killed TaskManager to be lost', async () => (await cluster!.listTaskManagers()).length === 0, 30_000, 200);
    await cluster.startTaskManager(2);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 120_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBeGreaterThanOrEqual(1);
    expect(done.last_restore_checkpoint_id).toBeGreaterThan(0);
    const diff = diffLines(committedLines(out), expectedKeyedSum(n, keys));
    expect({ missing: diff.missing.length, extra: diff.extra.length, firstMissing: diff.missing.slice(0, 3), firstExtra: diff.extra.slice(0, 3) }).toEqual({ missing: 0, extra: 0, firstMissing: [], firstExtra: [] });
    // A finished job's checkpoints go, shared/ with them: nothing of the job is left in the bucket.
    await waitFor('the finished job\'s objects to be removed', async () => (await keysUnder('')).every((k) => !k.includes(`${root}/${id}/`)) || undefined, 30_000, 300);
  }, 240_000);
});

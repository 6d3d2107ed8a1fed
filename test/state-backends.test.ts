import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLES, committedLines, diffLines, expectedKeyedSum, TestCluster, waitFor } from './harness';

const JOBS = path.join(__dirname, 'jobs');

interface Handle { path: string; checksum: string }

/** Basenames of the files the retained checkpoints' metadata names. */
function referencedFiles(jobDir: string): Set<string> {
  const names = new Set<string>();
  for (const chk of readdirSync(jobDir).filter((n) => /^chk-\d+$/.test(n))) {
    const meta = path.join(jobDir, chk, '_metadata');
    if (!existsSync(meta)) continue;
    const handles = (JSON.parse(readFileSync(meta, 'utf8')) as { handles: Record<string, Handle[]> }).handles;
    for (const list of Object.values(handles)) for (const h of list) names.add(path.basename(h.path));
  }
  return names;
}

function restoreLogs(cluster: TestCluster): { localFiles: number; localRejected: number; files: number; backend?: string }[] {
  const dir = path.join(cluster.dir, 'logs');
  return readdirSync(dir).filter((n) => n.startsWith('taskmanager')).flatMap((n) =>
    readFileSync(path.join(dir, n), 'utf8').split('\n').filter((l) => l.includes('"restored state"')).map((l) => JSON.parse(l)));
}

describe('lmdb backend, incremental checkpoints, some of which time out', () => {
  const cluster = new TestCluster({
    'state.backend.type': 'lmdb',
    'execution.checkpointing.incremental': 'true',
    'state.backend.changelog.max-chain-length': 3,
    'execution.checkpointing.timeout': '300ms',
    'execution.checkpointing.tolerable-failed-checkpoints': 1000,
    'state.checkpoints.num-retained': 2,
    'state.backend.lmdb.localdir': path.join(os.tmpdir(), `weir-test-lmdb-${process.pid}`),
  });
  afterAll(() => cluster.stop());

  it('an aborted incremental checkpoint leaves no file behind; the output is exactly once; checkpoints write less than the state', async () => {
    await cluster.start(2);
    const out = path.join(cluster.dir, 'out');
    const keys = 3000;
    // subtask 0 stalls 700 ms every 4000 of its records (~ every 2.7 s): those checkpoints time out
    const id = await cluster.submit(path.join(JOBS, 'stalling-keyed-sum.ts'), [out, String(1e9), String(keys), '3000', '100', '700', '4000'], ['-p', '2']);
    await waitFor('an aborted and 5 completed checkpoints', async () => {
      const c = await cluster.checkpoints(id);
      return c.failed >= 1 && c.completed >= 5 ? c : undefined;
    }, 90_000, 500);
    // cancelled, the job keeps its latest checkpoint (RETAIN_ON_CANCELLATION) with its shared files
    await cluster.cli(['cancel', id]);
    await cluster.waitForState(id, ['CANCELED'], 60_000);

    // exactly once up to the last checkpoint: every key's counts are 1..n, none twice, none missing
    const counts = new Map<string, number[]>();
    for (const line of committedLines(out)) {
      const [k, c] = line.split(' ');
      counts.set(k as string, [...(counts.get(k as string) ?? []), Number(c)]);
    }
    expect(counts.size).toBeGreaterThan(0);
    const broken = [...counts].filter(([, cs]) => cs.sort((a, b) => a - b).some((c, i) => c !== i + 1));
    expect(broken.slice(0, 5)).toEqual([]);

    const cps = await cluster.checkpoints(id);
    const history = cps.history as unknown as { id: number; status: string; state_size: number; checkpointed_size: number }[];
    const failed = history.filter((h) => h.status === 'FAILED');
    const completed = history.filter((h) => h.status === 'COMPLETED');
    expect(failed.length).toBeGreaterThan(0);
    // checkpoints wrote deltas (that a delta after an abort carries the aborted one's changes: changelog-chain.test.ts)
    const summary = JSON.stringify(history.map((h) => [h.id, h.status, Number(h.checkpointed_size), Number(h.state_size)]));
    expect(completed.some((h) => Number(h.checkpointed_size) < Number(h.state_size)), summary).toBe(true);

    const jobDir = path.join(cluster.checkpointDir, id);
    const shared = readdirSync(path.join(jobDir, 'shared'));
    const referenced = referencedFiles(jobDir);
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.filter((f) => !referenced.has(f))).toEqual([]);
    for (const f of failed) {
      expect(shared.filter((name) => name.startsWith(`chk${f.id}-`))).toEqual([]);
      expect(existsSync(path.join(jobDir, `chk-${f.id}`))).toBe(false);
    }
    // weir checkpoints shows both sizes
    const text = await cluster.cli(['checkpoints', id]);
    expect(text.stdout).toMatch(/CHECKPOINTED\s+STATE SIZE/);
  }, 150_000);
});

describe('local recovery', () => {
  const localRoot = path.join(os.tmpdir(), `weir-test-local-${process.pid}`);
  const cluster = new TestCluster({
    'execution.checkpointing.incremental': 'true',
    'state.backend.local-recovery': 'true',
    'taskmanager.state.local.root-dirs': localRoot,
    'restart-strategy.type': 'fixed-delay',
    'restart-strategy.fixed-delay.attempts': 5,
    'restart-strategy.fixed-delay.delay': '200ms',
  });
  afterAll(() => cluster.stop());

  it('a restarted task reads its verified local copy; a corrupt copy is refused and the storage copy read; the output is exact', async () => {
    await cluster.start(3);
    const out = path.join(cluster.dir, 'out');
    const [n, keys] = [60_000, 500];
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), String(keys), '6000', '200'], ['-p', '2']);
    await waitFor('3 completed checkpoints', async () => ((await cluster.checkpoints(id)).completed >= 3 ? true : undefined), 30_000);
    // damage every local copy of the first keyed subtask: its restore must fall back to storage
    const jobLocal = path.join(localRoot, id);
    const damaged = readdirSync(jobLocal).filter((d) => d.endsWith('-0')).flatMap((d) => readdirSync(path.join(jobLocal, d)).map((f) => path.join(jobLocal, d, f)));
    for (const f of damaged) writeFileSync(f, 'not the state');
    expect(damaged.length).toBeGreaterThan(0);
    const status = await cluster.status(id);
    const busy = new Set(status.vertices.flatMap((v) => v.subtasks.map((s) => s.taskmanager_id)).filter(Boolean));
    const victim = cluster.taskmanagers.find((tm) => [...busy].some((b) => b.includes(`-${tm.pid}-`))) ?? cluster.taskmanagers[0];
    cluster.kill(victim.pid);
    await cluster.waitForState(id, ['FINISHED'], 90_000);
    const { missing, extra } = diffLines(committedLines(out), expectedKeyedSum(n, keys));
    expect({ missing: missing.length, extra: extra.length }).toEqual({ missing: 0, extra: 0 });
    const restores = restoreLogs(cluster);
    expect(restores.reduce((a, r) => a + r.localFiles, 0)).toBeGreaterThan(0);
    expect(restores.reduce((a, r) => a + r.localRejected, 0)).toBeGreaterThan(0);
  }, 120_000);
});

/** What every-state-kind.ts commits for numbers 1..n over `keys` keys, computed with plain maps. */
function expectedEveryStateKind(n: number, keys: number): string[] {
  const perKey = new Map<string, { count: number; last: number[]; residues: Map<number, number>; sum: number }>();
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) {
    const key = `u${i % keys}`;
    let s = perKey.get(key);
    if (!s) perKey.set(key, (s = { count: 0, last: [], residues: new Map(), sum: 0 }));
    s.count++;
    s.last = [...s.last, i].slice(-3);
    const r = i % 3;
    s.residues.set(r, (s.residues.get(r) ?? 0) + 1);
    if (s.residues.get(r) === 4) s.residues.delete(r);
    s.sum += i;
    const map = [...s.residues].sort(([a], [b]) => a - b).map(([k, v]) => `${k}:${v}`).join(',');
    lines.push(`${key} ${s.count} ${s.last.join(',')} ${map || '-'} ${s.sum}`);
  }
  return lines;
}

describe('savepoints move between state backends', () => {
  const lmdbDir = path.join(os.tmpdir(), `weir-test-lmdb-move-${process.pid}`);
  const cluster = new TestCluster({ 'state.backend.lmdb.localdir': lmdbDir });
  afterAll(() => cluster.stop());

  it('hashmap -> savepoint -> lmdb with incremental checkpoints -> stop with savepoint -> hashmap: every state kind, output exact', async () => {
    await cluster.start(2, 2);
    const out = path.join(cluster.dir, 'out');
    const spDir = path.join(cluster.dir, 'savepoints');
    const [n, keys] = [60_000, 50];
    const job = path.join(JOBS, 'every-state-kind.ts');
    // Slow phases stay far from the end; no periodic checkpoint of the first gets between its savepoint and the cancel.
    const args = (rate: number, interval: number) => [out, String(n), String(keys), String(rate), String(interval)];
    const run = async (from: string, options: string[], jobArgs: string[]) => {
      const r = await cluster.cli(['run', job, '--detached', '-s', from, ...options, '--', ...jobArgs]);
      const id = /JobID ([0-9a-f]{32})/.exec(r.stdout)?.[1];
      if (r.code !== 0 || !id) throw new Error(`resume failed (${r.code}): ${r.stderr}`);
      return id;
    };
    const emitted = async (id: string) => (await cluster.status(id)).vertices[0].subtasks.reduce((a, t) => a + (t as unknown as { records_out: number }).records_out, 0);

    // 1. On the heap backend, a savepoint (weir savepoint), then cancel.
    const onHeap = await cluster.submit(job, args(3_000, 600_000), ['-p', '2']);
    await waitFor('records to flow', async () => (await emitted(onHeap)) >= 3_000, 30_000, 200);
    const sp = await cluster.cli(['savepoint', onHeap, spDir], 180_000);
    const fromHeap = /Savepoint completed\. Path: (\S+)/.exec(sp.stdout)?.[1] as string;
    expect(sp.code, sp.stderr).toBe(0);
    expect((await cluster.cli(['cancel', onHeap])).code).toBe(0);
    await cluster.waitForState(onHeap, ['CANCELED']);

    // 2. Resumed on lmdb at another parallelism, with incremental checkpoints; stopped with a savepoint.
    const onLmdb = await run(fromHeap, ['-p', '3', '-D', 'state.backend.type=lmdb', '-D', 'execution.checkpointing.incremental=true'], args(3_000, 300));
    // Past checkpoint 11: the changelog chain crosses from one-digit to two-digit ids (restore must keep its order).
    await waitFor('incremental checkpoints on lmdb past checkpoint 11', async () => {
      const h = (await cluster.checkpoints(onLmdb)).history as unknown as { id: number; status: string; state_size: number; checkpointed_size: number }[];
      const done = h.filter((c) => c.status === 'COMPLETED');
      return done.some((c) => Number(c.checkpointed_size) < Number(c.state_size)) && done.some((c) => Number(c.id) >= 11) ? true : undefined;
    }, 90_000, 300);
    const stop = await cluster.cli(['stop', onLmdb, '--savepoint-path', spDir], 180_000);
    expect(stop.code, stop.stderr).toBe(0);
    const fromLmdb = /Savepoint completed\. Path: (\S+)/.exec(stop.stdout)?.[1] as string;
    // Stopped, the sinks committed up to the savepoint (the first job's records with them, restored as pending files).
    expect(committedLines(out).length).toBeGreaterThan(3_000);
    // A savepoint is self-contained: every file it names is inside it, none in the job's shared/ chain.
    const meta = JSON.parse(readFileSync(path.join(fromLmdb, '_metadata'), 'utf8')) as { handles: Record<string, Handle[]> };
    const files = Object.values(meta.handles).flat().map((h) => h.path);
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !path.resolve(fromLmdb, f).startsWith(`${fromLmdb}${path.sep}`))).toEqual([]);

    // 3. Back on the heap backend at parallelism 2, to the end.
    const back = await run(fromLmdb, ['-p', '2'], args(200_000, 600_000));
    const done = await cluster.waitForState(back, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    const { missing, extra } = diffLines(committedLines(out), expectedEveryStateKind(n, keys));
    expect({ missing: missing.slice(0, 5), extra: extra.slice(0, 5), counts: [missing.length, extra.length] }).toEqual({ missing: [], extra: [], counts: [0, 0] });

    // The keyed subtasks restored on the backend each job named.
    const restored = restoreLogs(cluster).filter((r) => r.backend);
    expect(restored.filter((r) => r.backend === 'lmdb')).toHaveLength(3);
    expect(restored.filter((r) => r.backend === 'hashmap')).toHaveLength(2);
  }, 240_000);
});

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

function restoreLogs(cluster: TestCluster): { localFiles: number; localRejected: number; files: number }[] {
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

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTaskState } from '@weir/runtime';
import { committedLines, EXAMPLES, expectedKeyedSum, diffLines, TestCluster, waitFor } from './harness';

const JOBS = path.join(__dirname, 'jobs');

interface StateFile {
  operators: Record<string, { keyed?: { states: Record<string, { groups: [number, [string, unknown][]][] }> }; operator?: Record<string, unknown[]> }>;
}

function readState(file: string): StateFile {
  // A keyed state file is a head and fragments: read as a restore reads it.
  return decodeTaskState(readFileSync(file)) as unknown as StateFile;
}

describe('checkpointing on a real cluster (JobManager + 2 TaskManagers)', () => {
  const cluster = new TestCluster({ 'state.checkpoints.num-retained': 50 });

  beforeAll(async () => {
    await cluster.start(2);
  });
  afterAll(() => cluster.stop());

  it('completes checkpoints of a keyed job with parallelism 2 at the interval, with the expected files', async () => {
    const out = path.join(cluster.dir, 'keyed-out');
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '100000000', '100', '20000', '300'], ['-p', '2']);
    const cps = await waitFor('5 completed checkpoints', async () => {
      const c = await cluster.checkpoints(id);
      return c.completed >= 5 ? c : undefined;
    }, 30_000);
    await cluster.cli(['cancel', id]);
    const completed = cps.history.filter((h) => h.status === 'COMPLETED').sort((a, b) => a.id - b.id);
    expect(cps.failed).toBe(0);
    for (const h of completed) expect(h.acknowledged).toBe(4);
    // Periodic: consecutive triggers are at least the interval apart.
    const triggers = (await cluster.checkpoints(id)).history.filter((h) => h.status === 'COMPLETED').map((h) => (h as unknown as { trigger_timestamp: number }).trigger_timestamp).sort();
    for (let i = 1; i < triggers.length; i++) expect(triggers[i] - triggers[i - 1]).toBeGreaterThanOrEqual(290);
    const latest = completed[completed.length - 1];
    expect(latest.path).toBe(path.join(cluster.checkpointDir, id, `chk-${latest.id}`));
    expect(readdirSync(latest.path).sort()).toEqual(['_metadata', 'v1-0.state', 'v1-1.state', 'v2-0.state', 'v2-1.state']);
    const metadata = JSON.parse(readFileSync(path.join(latest.path, '_metadata'), 'utf8'));
    expect(metadata.id).toBe(latest.id);
    expect(Object.keys(metadata.handles).sort()).toEqual(['v1', 'v2']);
    for (const handle of metadata.handles.v2) {
      expect(handle.checksum).toMatch(/^[0-9a-f]{64}$/);
      // Relocatable: paths are relative to the metadata's own directory.
      expect(handle.path).toBe(path.basename(handle.path));
      expect(existsSync(path.join(latest.path, handle.path))).toBe(true);
    }
    // The two keyed subtasks split the key groups 0..127 between them.
    const ranges = metadata.handles.v2.map((h: { key_group_start: number; key_group_end: number }) => [h.key_group_start, h.key_group_end]).sort((a: number[], b: number[]) => a[0] - b[0]);
    expect(ranges).toEqual([[0, 63], [64, 127]]);
    // The sums in state are exactly what the sink has committed up to that checkpoint.
    const keyed = [0, 1].flatMap((s) => {
      const state = readState(path.join(latest.path, `v2-${s}.state`));
      return state.operators.sum.keyed?.states['sum/reduce'].groups.flatMap(([, entries]) => entries) ?? [];
    });
    const total = keyed.reduce((n, [, v]) => n + (v as { count: number }).count, 0);
    const sources = [0, 1].map((s) => readState(path.join(latest.path, `v1-${s}.state`)).operators.numbers.operator?.['generator-splits'][0] as { next: number });
    const emitted = sources.reduce((n, s, i) => n + (s.next - i) / 2, 0);
    expect(total).toBe(emitted);
  });

  it('a checkpoint whose task cannot answer times out and names the task', async () => {
    const marker = path.join(cluster.dir, 'stall-marker');
    const id = await cluster.submit(path.join(JOBS, 'stalling-map.ts'), ['3000', '1000', marker], [
      '-D', 'execution.checkpointing.interval=200ms',
      '-D', 'execution.checkpointing.timeout=1s',
      '-D', 'execution.checkpointing.tolerable-failed-checkpoints=100',
    ]);
    const failed = await waitFor('a checkpoint to expire', async () => {
      const c = await cluster.checkpoints(id);
      return c.history.find((h) => h.status === 'FAILED');
    }, 30_000);
    expect(failed.failure_reason).toBe(`checkpoint ${failed.id} expired after 1000 ms before every task acknowledged it`);
    expect(failed.failed_task).toBe('v2#1@0');
    const table = await cluster.cli(['checkpoints', id]);
    expect(table.stdout).toContain('[task: v2#1@0]');
    // Once the task answers again, checkpoints complete again.
    await waitFor('a completed checkpoint after the stall', async () => {
      const c = await cluster.checkpoints(id);
      return c.history.some((h) => h.status === 'COMPLETED' && h.id > failed.id);
    }, 30_000);
    await cluster.cli(['cancel', id]);
  });

  async function countsAgainstPositions(mode: string): Promise<{ counted: number; emitted: number }[]> {
    const id = await cluster.submit(path.join(JOBS, 'two-speed-count.ts'), [mode, '150']);
    await waitFor('8 completed checkpoints', async () => (await cluster.checkpoints(id)).completed >= 8, 60_000);
    await cluster.cli(['cancel', id]);
    const dir = path.join(cluster.checkpointDir, id);
    const result: { counted: number; emitted: number }[] = [];
    for (const name of readdirSync(dir).filter((n) => n.startsWith('chk-'))) {
      const chk = path.join(dir, name);
      if (!existsSync(path.join(chk, '_metadata'))) continue;
      const metadata = JSON.parse(readFileSync(path.join(chk, '_metadata'), 'utf8')) as { handles: Record<string, { path: string }[]> };
      let counted = 0;
      let emitted = 0;
      for (const handles of Object.values(metadata.handles)) {
        for (const h of handles) {
          const state = readState(path.resolve(chk, h.path)); // relative to the metadata's directory
          for (const uid of ['slow-source', 'fast-source']) {
            const split = state.operators[uid]?.operator?.['sequence-splits']?.[0] as { next: number } | undefined;
            if (split) emitted += split.next;
          }
          const count = state.operators.counter?.keyed?.states['counter/count'];
          if (count) counted += count.groups.flatMap(([, e]) => e).reduce((n, [, v]) => n + (v as number), 0);
        }
      }
      result.push({ counted, emitted });
    }
    return result;
  }

  it('with alignment no record is counted into a checkpoint twice; without it one can be', async () => {
    const aligned = await countsAgainstPositions('EXACTLY_ONCE');
    expect(aligned.length).toBeGreaterThanOrEqual(8);
    for (const c of aligned) expect(c.counted).toBe(c.emitted);

    const unaligned = await countsAgainstPositions('AT_LEAST_ONCE');
    expect(unaligned.length).toBeGreaterThanOrEqual(8);
    for (const c of unaligned) expect(c.counted).toBeGreaterThanOrEqual(c.emitted);
    // Records behind an early barrier reached the state before the snapshot: after a
    // restore the sources replay them, so they would be counted twice.
    expect(unaligned.some((c) => c.counted > c.emitted)).toBe(true);
  });

  it('a bounded job ends with a final checkpoint that commits everything exactly once', async () => {
    const out = path.join(cluster.dir, 'bounded-out');
    const r = await cluster.cli(['run', path.join(EXAMPLES, 'keyed-sum.ts'), '-p', '2', '--', out, '50000', '20', '', '1000']);
    expect(r.stderr).toContain('FINISHED');
    expect(r.code).toBe(0);
    const diff = diffLines(committedLines(out), expectedKeyedSum(50000, 20));
    expect(diff).toEqual({ missing: [], extra: [] });
    expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('keeps the latest checkpoint when a job is cancelled, unless told to delete it', async () => {
    const run = async (retention: string) => {
      const out = path.join(cluster.dir, `retention-${retention}`);
      const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '100000000', '10', '5000', '200'], ['-D', `execution.checkpointing.externalized-checkpoint-retention=${retention}`]);
      const latest = await waitFor('a completed checkpoint', async () => (await cluster.checkpoints(id)).latest_completed, 30_000);
      const r = await cluster.cli(['cancel', id]);
      expect(r.stdout).toContain('CANCELED');
      return { id, latest };
    };
    const kept = await run('RETAIN_ON_CANCELLATION');
    expect(existsSync(path.join(kept.latest.path, '_metadata'))).toBe(true);
    const deleted = await run('DELETE_ON_CANCELLATION');
    // Completed ones go at once, and the job's directory when empty; state files still being
    // written by cancelled tasks are removed by them.
    const jobDir = path.join(cluster.checkpointDir, deleted.id);
    await waitFor('no checkpoint directory left', () => !existsSync(jobDir) || readdirSync(jobDir).every((n) => !n.startsWith('chk-')), 5_000);
  });
});

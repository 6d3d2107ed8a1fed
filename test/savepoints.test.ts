import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTaskState } from '@weir/runtime';
import { committedLines, diffLines, expectedKeyedSum, TestCluster, waitFor } from './harness';

/**
 * Savepoints on real processes: the committed output of every job chain is compared with
 * what one uninterrupted run of the job computes (expectedKeyedSum), line for line.
 */
const JOBS = path.join(__dirname, 'jobs');
const SUM = path.join(JOBS, 'savepoint-sum.ts');
const KEYS = 20;

/**
 * Job arguments of savepoint-sum.ts: no periodic checkpoint gets between a savepoint and a
 * cancel. Jobs that are to be interrupted run slowly (SLOW records/s, far from their end
 * on a busy machine); the last of a chain runs fast to its end. The rate is no state.
 */
const SLOW = 3_000;
const FAST = 200_000;
const sumArgs = (out: string, n: number, version: string, rate = SLOW) => [out, String(n), String(KEYS), String(rate), '600000', version];

/** Records the source vertex has emitted in this job (from the TaskManagers' metrics). */
async function emitted(cluster: TestCluster, jobId: string): Promise<number> {
  const s = (await cluster.status(jobId)) as unknown as { vertices: { subtasks: { records_out: number }[] }[] };
  return s.vertices[0].subtasks.reduce((n, t) => n + t.records_out, 0);
}

async function runFrom(cluster: TestCluster, savepoint: string, jobArgs: string[], options: string[]): Promise<{ jobId: string; report: string }> {
  const r = await cluster.cli(['run', SUM, '--detached', '-s', savepoint, ...options, '--', ...jobArgs]);
  const jobId = /JobID ([0-9a-f]{32})/.exec(r.stdout)?.[1];
  if (r.code !== 0 || !jobId) throw new Error(`resume failed (${r.code}): ${r.stderr}`);
  return { jobId, report: r.stdout };
}

async function savepoint(cluster: TestCluster, jobId: string, dir: string): Promise<string> {
  const r = await cluster.cli(['savepoint', jobId, dir], 180_000);
  expect(r.stderr).toContain(`Triggering savepoint for job ${jobId}.`);
  const sp = /Savepoint completed\. Path: (\S+)/.exec(r.stdout)?.[1];
  if (r.code !== 0 || !sp) throw new Error(`savepoint failed (${r.code}): ${r.stderr}`);
  return sp;
}

/** From the generator splits' positions in a savepoint: the records the sources emitted before its barrier. */
function emittedBefore(snapshotDir: string): number[] {
  const records: number[] = [];
  for (const name of readdirSync(snapshotDir).filter((n) => n.endsWith('.state'))) {
    const state = decodeTaskState(readFileSync(path.join(snapshotDir, name))) as unknown as { operators: Record<string, { operator?: Record<string, { index: number; next: number; step?: number }[]> }> };
    const splits = state.operators.numbers?.operator?.['generator-splits'] ?? [];
    // Each subtask keeps the splits it owns: every split is in exactly one file.
    for (const s of splits) for (let i = s.index; i < s.next; i += s.step ?? 1) records.push(i + 1); // record i is i + 1
  }
  return records;
}

/** The lines keyed-sum commits for these records: "k c" for c = 1..(records with key k). */
function keyedSumOf(records: number[]): string[] {
  const counts = new Map<number, number>();
  for (const r of records) counts.set(r % KEYS, (counts.get(r % KEYS) ?? 0) + 1);
  return [...counts].flatMap(([k, c]) => Array.from({ length: c }, (_, i) => `${k} ${i + 1}`));
}

/** Per key, the highest running count among lines "k c". */
function highestCounts(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) {
    const [k, c] = l.split(' ');
    m.set(k, Math.max(m.get(k) ?? 0, Number(c)));
  }
  return m;
}

/** What keyed-sum lines the records after the first `before` of 1..n produce, counted from `start[k]`+1. */
function countsFrom(n: number, before: Map<string, number>): string[] {
  const total = new Map<string, number>();
  for (const [k, c] of highestCounts(expectedKeyedSum(n, KEYS))) total.set(k, c);
  const out: string[] = [];
  for (const [k, c] of total) for (let i = 1; i <= c - (before.get(k) ?? 0); i++) out.push(`${k} ${i}`);
  return out;
}

describe('savepoints on a real cluster', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('savepoint -> cancel -> resume at parallelism 2 -> 3 -> 1, then a retained checkpoint -> 4: output exact, nothing deleted', async () => {
    cluster = await new TestCluster().start(2, 2);
    const out = path.join(cluster.dir, 'out');
    const spDir = path.join(cluster.dir, 'savepoints');
    const n = 150_000;
    const args = sumArgs(out, n, 'v1');
    let jobId = await cluster.submit(SUM, args, ['-p', '2']);
    const kept: string[] = [];
    for (const p of [3, 1]) {
      await waitFor('records to flow', async () => (await emitted(cluster!, jobId)) >= 4_000, 30_000, 200);
      const sp = await savepoint(cluster, jobId, spDir);
      // Cancel at once: a job left running would commit records after the savepoint.
      expect((await cluster.cli(['cancel', jobId])).code).toBe(0);
      expect(path.dirname(sp)).toBe(spDir);
      expect(path.basename(sp)).toMatch(new RegExp(`^savepoint-${jobId.slice(0, 6)}-[0-9a-f]{12}$`));
      // Marked as a savepoint in the history of the CLI and the REST API.
      const cps = (await cluster.checkpoints(jobId)) as unknown as { latest_savepoint?: { path: string }; latest_completed?: { path: string }; history: { id: number; status: string; path: string; is_savepoint?: boolean }[] };
      expect(cps.history.find((h) => h.path === sp)).toMatchObject({ status: 'COMPLETED', is_savepoint: true });
      expect(cps.latest_savepoint?.path).toBe(sp);
      expect(cps.latest_completed?.path).not.toBe(sp); // failover never restores a savepoint
      const rest = await (await fetch(`http://127.0.0.1:${cluster.restPort}/jobs/${jobId}/checkpoints`)).json() as { history: { path: string; is_savepoint: boolean }[] };
      expect(rest.history.find((h) => h.path === sp)?.is_savepoint).toBe(true);
      expect((await cluster.cli(['checkpoints', jobId])).stdout).toMatch(/\(savepoint\)/);
      kept.push(sp);
      const resumed = await runFrom(cluster, sp, args, ['-p', String(p)]);
      expect(resumed.report).toContain(`Restoring from savepoint ${sp}`);
      expect(resumed.report).toMatch(new RegExp(`sum .*reduce \\(value\\) .* ${p === 3 ? '2 -> 3' : '3 -> 1'}`));
      jobId = resumed.jobId;
      const status = await cluster.waitForState(jobId, ['RUNNING']);
      expect((status as unknown as { restored_from: string }).restored_from).toBe(sp);
      expect(status.vertices.map((v) => v.parallelism)).toEqual([p, p]);
      // Rescaled up, every source subtask reads: the old splits were cut for the new ones.
      await waitFor(`all ${p} source subtasks to emit`, async () => {
        const s = (await cluster!.status(jobId)) as unknown as { vertices: { subtasks: { records_out: number }[] }[] };
        return s.vertices[0].subtasks.every((t) => t.records_out > 0);
      }, 30_000, 300);
    }
    // A retained checkpoint taken on demand (weir checkpoint) restores the same way.
    await waitFor('records to flow', async () => (await emitted(cluster!, jobId)) >= 4_000, 30_000, 200);
    const cp = await cluster.cli(['checkpoint', jobId, '--full'], 180_000);
    expect({ code: cp.code, stderr: cp.stderr }).toEqual({ code: 0, stderr: '' });
    const chk = /Path: (\S+)/.exec(cp.stdout)?.[1] as string;
    expect(chk).toBe(path.join(cluster.checkpointDir, jobId, path.basename(chk)));
    expect((await cluster.cli(['cancel', jobId])).code).toBe(0);
    const last = await runFrom(cluster, chk, sumArgs(out, n, 'v1', FAST), ['-p', '4']);
    expect(last.report).toContain(`Restoring from checkpoint ${chk}`);
    const done = await cluster.waitForState(last.jobId, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.vertices.map((v) => v.parallelism)).toEqual([4, 4]);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, KEYS))).toEqual({ missing: [], extra: [] });
    // NO_CLAIM: Weir deleted neither the savepoints nor the checkpoint the last job started from.
    for (const dir of [...kept, chk]) expect(existsSync(path.join(dir, '_metadata'))).toBe(true);
  });

  it('stop with savepoint, change the job (a stateless and a new stateful operator), resume at another parallelism: continues exactly where it stopped', async () => {
    cluster = await new TestCluster().start(2, 2);
    const out = path.join(cluster.dir, 'out');
    const spDir = path.join(cluster.dir, 'savepoints');
    const n = 150_000;
    const jobId = await cluster.submit(SUM, sumArgs(out, n, 'v1'), ['-p', '2']);
    await waitFor('records to flow', async () => (await emitted(cluster!, jobId)) >= 4_000, 30_000, 200);
    const stop = await cluster.cli(['stop', jobId, '--savepoint-path', spDir], 180_000);
    expect(stop.code).toBe(0);
    const sp = /Savepoint completed\. Path: (\S+)/.exec(stop.stdout)?.[1] as string;
    expect(stop.stdout).toContain(`Job ${jobId}: FINISHED`);
    const stopped = await cluster.status(jobId);
    expect(stopped.summary.state).toBe('FINISHED');
    expect((stopped as unknown as { last_savepoint_path: string }).last_savepoint_path).toBe(sp);
    expect((await cluster.cli(['status', jobId])).stdout).toContain(`Last savepoint: ${sp}`);
    // The sinks committed at the savepoint: exactly the records the sources had emitted before its barrier.
    const v1Lines = committedLines(out);
    const before = emittedBefore(sp);
    expect(before.length).toBeGreaterThanOrEqual(4_000);
    expect(before.length).toBeLessThan(n);
    expect(diffLines(v1Lines, keyedSumOf(before))).toEqual({ missing: [], extra: [] });

    const v2 = await runFrom(cluster, sp, sumArgs(out, n, 'v2', 15_000), ['-p', '3']);
    expect(v2.report).toContain('Compatible.');
    // The JobManager dies before the new job has a checkpoint of its own: restarted, it
    // resumes the job from the savepoint again (still there, never claimed).
    await cluster.waitForState(v2.jobId, ['RUNNING']);
    process.kill(cluster.jobmanager?.pid as number, 'SIGKILL');
    await cluster.startJobManager();
    const resumed = await cluster.waitForState(v2.jobId, ['RUNNING', 'FINISHED', 'FAILED'], 60_000);
    expect((resumed as unknown as { restored_from: string }).restored_from).toBe(sp);
    const done = await cluster.waitForState(v2.jobId, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    const all = committedLines(out);
    const v2Lines = diffLines(all, v1Lines).extra;
    // Every v2 line is "k c +s": the running count went on from the savepoint, the new operator counted from 1.
    const m = highestCounts(v1Lines);
    for (const line of v2Lines) {
      const [k, c, seen] = line.split(' ');
      expect(seen).toBe(`+${Number(c) - (m.get(k) ?? 0)}`);
    }
    expect(diffLines([...v1Lines, ...v2Lines.map((l) => l.split(' ').slice(0, 2).join(' '))], expectedKeyedSum(n, KEYS))).toEqual({ missing: [], extra: [] });
  });

  it('stop --drain; a moved savepoint resumes from its new place; a missing uid or a changed max parallelism is refused with a report; --allow-non-restored-state drops that state', async () => {
    cluster = await new TestCluster().start(1, 2);
    const out = path.join(cluster.dir, 'out');
    const n = 150_000;
    const jobId = await cluster.submit(SUM, sumArgs(out, n, 'v1'), ['-p', '2']);
    await waitFor('records to flow', async () => (await emitted(cluster!, jobId)) >= 4_000, 30_000, 200);
    // --drain ends the input as well; the savepoint resumes all the same.
    const stop = await cluster.cli(['stop', jobId, '-p', path.join(cluster.dir, 'first-place'), '--drain'], 180_000);
    expect(stop.code).toBe(0);
    expect(stop.stderr).toContain(`Suspending job ${jobId} (draining its input).`);
    const original = /Path: (\S+)/.exec(stop.stdout)?.[1] as string;
    mkdirSync(path.join(cluster.dir, 'elsewhere'));
    const moved = path.join(cluster.dir, 'elsewhere', 'kept-savepoint');
    renameSync(original, moved);
    const metadataBefore = readFileSync(path.join(moved, '_metadata'));
    const jobsBefore = JSON.parse((await cluster.cli(['list', '--json'])).stdout).length;

    const dry = await cluster.cli(['run', SUM, '-s', moved, '--dry-run', '-p', '1', '--', ...sumArgs(out, n, 'v1')]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`Restoring from savepoint ${moved} (checkpoint `);
    expect(dry.stdout).toMatch(/numbers .* 2 -> 1/);
    expect(dry.stdout).toContain('Compatible.');
    expect(dry.stdout).not.toContain('JobID');

    const noUid = await cluster.cli(['run', SUM, '--detached', '-s', moved, '--', ...sumArgs(out, n, 'nouid')]);
    expect(noUid.code).toBe(1);
    expect(noUid.stderr).toContain(`weir: the job cannot start from ${moved}:`);
    expect(noUid.stderr).toMatch(/State that would be dropped, no operator has its uid:\n\s+UID\s+WAS\s+STATE\n\s+sum\s+Sum\(count\) \(reduce\)\s+reduce \(value\)/);
    expect(noUid.stderr).toMatch(/Operators without a uid[^\n]*\n\s+DERIVED UID\s+OPERATOR\n(\s+\S+ .*\n)*\s+reduce-\d+\s+Sum\(count\) \(reduce\)/);
    expect(noUid.stderr).toContain('the state of 1 operator(s) ("sum") has no operator with that uid in the job; give the operator its old uid, or start with --allow-non-restored-state to drop that state');

    const maxPar = await cluster.cli(['run', SUM, '--detached', '-s', moved, '-D', 'pipeline.max-parallelism=64', '--', ...sumArgs(out, n, 'v1')]);
    expect(maxPar.code).toBe(1);
    expect(maxPar.stderr).toContain('operator "sum" (Sum(count)): max parallelism 64 differs from the saved 128; it fixes the key groups of keyed state, so it cannot change');

    const missing = await cluster.cli(['run', SUM, '--detached', '-s', path.join(cluster.dir, 'no-such-savepoint'), '--', ...sumArgs(out, n, 'v1')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`weir: no savepoint or checkpoint at ${path.join(cluster.dir, 'no-such-savepoint')}: the path does not exist`);

    const corrupt = path.join(cluster.dir, 'corrupt-savepoint');
    mkdirSync(corrupt);
    writeFileSync(path.join(corrupt, '_metadata'), '{"id": 3, "handl');
    const bad = await cluster.cli(['run', SUM, '--detached', '-s', corrupt, '--', ...sumArgs(out, n, 'v1')]);
    expect([bad.code, bad.stderr.trim()]).toEqual([1, `weir: checkpoint metadata ${path.join(corrupt, '_metadata')} is corrupt: it is not valid JSON (16 bytes)`]);
    const unknownJob = await cluster.cli(['savepoint', '0'.repeat(32), path.join(cluster.dir, 'x')]);
    expect([unknownJob.code, unknownJob.stderr.split('\n').at(-2)]).toEqual([1, `weir: no job with id ${'0'.repeat(32)}`]);
    const finished = await cluster.cli(['stop', jobId, '-p', path.join(cluster.dir, 'x')]);
    expect([finished.code, finished.stderr.split('\n').at(-2)]).toEqual([1, `weir: job ${jobId} is FINISHED: only a RUNNING job can take a savepoint`]);

    // Refusals lose nothing: no job was made, the savepoint is untouched.
    expect(JSON.parse((await cluster.cli(['list', '--json'])).stdout)).toHaveLength(jobsBefore);
    expect(readFileSync(path.join(moved, '_metadata'))).toEqual(metadataBefore);

    const v1Lines = committedLines(out);
    const allowed = await cluster.cli(['run', SUM, '--detached', '-s', moved, '--allow-non-restored-state', '-p', '1', '--', ...sumArgs(out, n, 'nouid', FAST)]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('State dropped (--allow-non-restored-state), no operator has its uid:');
    const allowedId = /JobID ([0-9a-f]{32})/.exec(allowed.stdout)?.[1] as string;
    const done = await cluster.waitForState(allowedId, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    // Positions (and the sink) came from the moved directory; the running counts began again at 1.
    const after = diffLines(committedLines(out), v1Lines).extra;
    expect(diffLines(after, countsFrom(n, highestCounts(v1Lines)))).toEqual({ missing: [], extra: [] });

    const dispose = await cluster.cli(['savepoint', '--dispose', moved]);
    expect(dispose.code).toBe(0);
    expect(dispose.stdout.trim()).toBe(`Savepoint ${moved} disposed.`);
    expect(existsSync(moved)).toBe(false);
    const again = await cluster.cli(['savepoint', '--dispose', moved]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`weir: no savepoint or checkpoint at ${moved}: the path does not exist`);
  });

  it('a TaskManager killed while a savepoint is in flight: the savepoint fails clearly, the job recovers, a second savepoint succeeds', async () => {
    cluster = await new TestCluster({ 'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.attempts': 5, 'restart-strategy.fixed-delay.delay': '200ms' }).start(3);
    const spDir = path.join(cluster.dir, 'savepoints');
    const jobId = await cluster.submit(path.join(JOBS, 'slow-barrier-sum.ts'), [path.join(cluster.dir, 'out')], ['-p', '2']);
    await waitFor('the slow map to be backpressured', async () => (await emitted(cluster!, jobId)) >= 5_000, 30_000, 200);
    const noDir = await cluster.cli(['savepoint', jobId]);
    expect([noDir.code, noDir.stderr.split('\n').at(-2)]).toEqual([1, 'weir: no savepoint directory: name one (weir savepoint <job-id> <dir>, weir stop --savepoint-path <dir>) or set state.savepoints.dir']);
    const victim = (await cluster.status(jobId)).vertices[1].subtasks[0].taskmanager_id;
    const rest = `http://127.0.0.1:${cluster.restPort}/jobs/${jobId}`;
    const trigger = await fetch(`${rest}/savepoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ 'target-directory': spDir }) });
    expect(trigger.status).toBe(202);
    const requestId = ((await trigger.json()) as { 'request-id': string })['request-id'];
    expect(await (await fetch(`${rest}/savepoints/${requestId}`)).json()).toEqual({ status: { id: 'IN_PROGRESS' } });
    cluster.kill(Number(victim.split('-').at(-2)));
    const failed = await waitFor('the savepoint to fail', async () => {
      const r = (await (await fetch(`${rest}/savepoints/${requestId}`)).json()) as { status: { id: string }; operation?: { 'failure-cause'?: { 'stack-trace': string } } };
      return r.status.id === 'COMPLETED' ? r : undefined;
    }, 30_000, 200);
    // Whichever the JobManager noticed first: the lost TaskManager or a task that lost its input.
    expect(failed.operation?.['failure-cause']?.['stack-trace']).toMatch(new RegExp(`^job failover: (TaskManager ${victim} lost|v\\d#\\d@0 failed)`));
    const history = (await cluster.checkpoints(jobId)).history as unknown as { status: string; is_savepoint: boolean; failure_reason: string }[];
    expect(history.find((h) => h.is_savepoint)).toMatchObject({ status: 'FAILED' });
    // No half savepoint is left behind.
    expect(existsSync(spDir) ? readdirSync(spDir) : []).toEqual([]);
    // Recovered: the lost TaskManager is gone and every task runs on the others (a restart
    // that raced the loss onto the dead TaskManager's slots is one more restart, not a failure).
    const recovered = await waitFor('the job to run again without the lost TaskManager', async () => {
      if ((await cluster!.listTaskManagers()).some((t) => t.id === victim)) return undefined;
      const s = await cluster!.status(jobId);
      const tasks = s.vertices.flatMap((v) => v.subtasks);
      return s.summary.state === 'RUNNING' && tasks.every((t) => t.state === 'RUNNING' && t.taskmanager_id !== victim) ? s : undefined;
    }, 60_000, 300);
    expect(recovered.summary.restarts).toBeGreaterThanOrEqual(1);
    const second = await savepoint(cluster, jobId, spDir);
    expect(readdirSync(spDir)).toEqual([path.basename(second)]);
    expect(readdirSync(second).sort()).toEqual(['_metadata', 'v1-0.state', 'v1-1.state', 'v2-0.state', 'v2-1.state', 'v3-0.state', 'v3-1.state']);

    // The REST API's checkpoint on demand.
    const cpTrigger = await fetch(`${rest}/checkpoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"checkpointType": "FULL"}' });
    expect(cpTrigger.status).toBe(202);
    const cpId = ((await cpTrigger.json()) as { 'request-id': string })['request-id'];
    const cp = await waitFor('the checkpoint to complete', async () => {
      const r = (await (await fetch(`${rest}/checkpoints/${cpId}`)).json()) as { status: { id: string }; operation?: { location?: string } };
      return r.status.id === 'COMPLETED' ? r : undefined;
    }, 60_000, 200);
    expect(cp.operation?.location).toMatch(new RegExp(`^${path.join(cluster.checkpointDir, jobId)}/chk-\\d+$`));

    // The REST API's stop: bad input is one clear error; a good request ends the job at a savepoint.
    // A page on another origin cannot send JSON unasked: a POST without it is refused.
    const plain = await fetch(`${rest}/savepoints`, { method: 'POST', body: '{}' });
    expect([plain.status, await plain.json()]).toEqual([400, { errors: ['POST needs Content-Type: application/json'] }]);
    const bad = await fetch(`${rest}/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ drain: 'yes' }) });
    expect([bad.status, await bad.json()]).toEqual([400, { errors: ['"drain" must be true or false'] }]);
    const unknown = await fetch(`http://127.0.0.1:${cluster.restPort}/jobs/${'0'.repeat(32)}/savepoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([unknown.status, await unknown.json()]).toEqual([404, { errors: [`no job with id ${'0'.repeat(32)}`] }]);
    const stop = await fetch(`${rest}/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ targetDirectory: spDir, drain: false }) });
    expect(stop.status).toBe(202);
    const stopId = ((await stop.json()) as { 'request-id': string })['request-id'];
    const stopped = await waitFor('the stop to complete', async () => {
      const r = (await (await fetch(`${rest}/savepoints/${stopId}`)).json()) as { status: { id: string }; operation?: { location?: string } };
      return r.status.id === 'COMPLETED' ? r : undefined;
    }, 60_000, 200);
    expect(stopped.operation?.location).toMatch(new RegExp(`^${spDir}/savepoint-`));
    expect((await cluster.waitForState(jobId, ['FINISHED', 'FAILED', 'CANCELED'])).summary.state).toBe('FINISHED');
  });
});

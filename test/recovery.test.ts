import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, TestCluster, waitFor } from './harness';

const JOBS = path.join(__dirname, 'jobs');
const FAST_RESTART = ['-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=10', '-D', 'restart-strategy.fixed-delay.delay=200ms'];

function pidOf(taskmanagerId: string): number {
  // ids are tm-<host>-<pid>-<random>
  return Number(taskmanagerId.split('-').at(-2));
}

describe('recovery from failures, exactly-once output', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('kill -9 of one of 3 TaskManagers mid-job: recovers onto the spare slot, output exact', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 1000, 'heartbeat.timeout': 5000 }).start(3);
    const out = path.join(cluster.dir, 'out');
    const n = 240_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '50', '20000', '200'], ['-p', '2', ...FAST_RESTART]);
    await waitFor('two completed checkpoints', async () => (await cluster!.checkpoints(id)).completed >= 2, 30_000);
    const status = await cluster.status(id);
    const victim = status.vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(pidOf(victim));
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(done.last_restore_checkpoint_id).toBeGreaterThan(0);
    expect(done.exceptions[0].taskmanager_id).toBe(victim);
    expect(done.exceptions[0].root_cause).toContain(`TaskManager ${victim} lost`);
    // The new attempt runs on the two survivors.
    for (const v of done.vertices) for (const s of v.subtasks) expect(s.taskmanager_id).not.toBe(victim);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 50))).toEqual({ missing: [], extra: [] });
    const cps = await cluster.checkpoints(id);
    expect(cps.restored).toBe(1);
  });

  it('a map that throws once after N records: one restart, exact output', async () => {
    cluster = await new TestCluster().start(2);
    const out = path.join(cluster.dir, 'out');
    const marker = path.join(cluster.dir, 'failed-once');
    const n = 60_000;
    const id = await cluster.submit(path.join(JOBS, 'failing-sum.ts'), [out, String(n), '30', '15000', marker, 'once'], ['-p', '2', ...FAST_RESTART]);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(done.exceptions).toHaveLength(1);
    expect(done.exceptions[0].root_cause).toMatch(/^v1#[01]@0 failed: injected failure after 15000 records/);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 30))).toEqual({ missing: [], extra: [] });
  });

  it('kill the only TaskManager and start a new one 3 s later: the job waits, then recovers', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 1000, 'heartbeat.timeout': 5000 }).start(1, 2);
    const out = path.join(cluster.dir, 'out');
    const n = 100_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '40', '20000', '200'], ['-p', '2', ...FAST_RESTART]);
    await waitFor('a completed checkpoint', async () => (await cluster!.checkpoints(id)).completed >= 1, 30_000);
    cluster.kill(cluster.taskmanagers[0].pid);
    await cluster.waitForState(id, ['RESTARTING', 'RUNNING']);
    await new Promise((r) => setTimeout(r, 3000));
    const during = await cluster.status(id);
    expect(during.summary.state).toBe('RESTARTING'); // no slots: it waits
    await cluster.startTaskManager(2);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 40))).toEqual({ missing: [], extra: [] });
  });

  it('an exhausted restart strategy ends the job FAILED with the cause in weir status', async () => {
    cluster = await new TestCluster().start(2);
    const out = path.join(cluster.dir, 'out');
    const marker = path.join(cluster.dir, 'marker');
    const id = await cluster.submit(path.join(JOBS, 'failing-sum.ts'), [out, '1000000', '10', '3000', marker, 'always'], [
      '-p', '1', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=1', '-D', 'restart-strategy.fixed-delay.delay=100ms',
    ]);
    const done = await cluster.waitForState(id, ['FAILED', 'FINISHED'], 60_000);
    expect(done.summary.state).toBe('FAILED');
    expect(done.summary.restarts).toBe(1);
    expect(done.exceptions).toHaveLength(2);
    expect(done.failure_cause).toMatch(/^v1#0@1 failed: injected failure after 3000 records/);
    expect(done.failure_cause).toContain('restart strategy fixed-delay (1 attempts, 100 ms delay) gave up');
    const text = await cluster.cli(['status', id]);
    expect(text.stdout).toContain('FAILED');
    expect(text.stdout).toContain('Failure cause: v1#0@1 failed: injected failure after 3000 records');
    expect(text.stdout).toMatch(/Exception history:[\s\S]*v1#0@0[\s\S]*v1#0@1/);
  });

  it('a TaskManager that goes silent (SIGSTOP) is lost after heartbeat.timeout; the job recovers exactly', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 500, 'heartbeat.timeout': 3000 }).start(3);
    const out = path.join(cluster.dir, 'out');
    const n = 200_000;
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(n), '50', '15000', '200'], ['-p', '2', ...FAST_RESTART]);
    await waitFor('a completed checkpoint', async () => (await cluster!.checkpoints(id)).completed >= 1, 30_000);
    const victim = (await cluster.status(id)).vertices[1].subtasks[1].taskmanager_id;
    process.kill(pidOf(victim), 'SIGSTOP');
    try {
      const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
      expect(done.summary.state).toBe('FINISHED');
      expect(done.exceptions[0].root_cause).toMatch(new RegExp(`^TaskManager ${victim} lost: no heartbeat for \\d+ ms \\(heartbeat.timeout 3000 ms\\)`));
      expect(diffLines(committedLines(out), expectedKeyedSum(n, 50))).toEqual({ missing: [], extra: [] });
    } finally {
      process.kill(pidOf(victim), 'SIGKILL');
    }
  });

  it('a damaged state file of the newest checkpoint fails the job at once, naming the file and the retained checkpoints still whole (finding 2)', async () => {
    // The default restart strategy (exponential-delay) restarts without end: damaged state must not ride on it.
    cluster = new TestCluster({ 'state.checkpoints.num-retained': 3 });
    await cluster.startJobManager();
    // Each worker writes 2 state files per checkpoint: from the 7th on (checkpoint 4) they fail,
    // so checkpoint 3 stays the newest while the test damages it.
    for (let i = 0; i < 3; i++) await cluster.startTaskManager(1, {}, { WEIR_FAULT_POINTS: 'tm.state.written:fail-io@7+' });
    const out = path.join(cluster.dir, 'out');
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '10000000', '50', '5000', '300'], ['-p', '2', '-D', 'execution.checkpointing.tolerable-failed-checkpoints=1000']);
    const completed = await waitFor('three completed checkpoints and a failed one', async () => {
      const c = await cluster!.checkpoints(id);
      return c.completed === 3 && c.failed >= 1 ? c.history.filter((h) => h.status === 'COMPLETED') : undefined;
    }, 60_000, 100);
    const [newest, ...older] = completed;
    expect(newest.id).toBe(3);
    const file = path.join(newest.path, 'v2-0.state');
    const data = readFileSync(file);
    writeFileSync(file, data.subarray(0, Math.floor(data.length / 2)));
    const holder = (await cluster.status(id)).vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(pidOf(holder));
    const started = Date.now();
    const done = await cluster.waitForState(id, ['FAILED'], 30_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(done.last_restore_checkpoint_id).toBe(newest.id);
    expect(done.summary.restarts).toBe(1);
    expect(done.failure_cause).toContain(`damaged checkpoint state, not restarting: v2#0@1 failed: checkpoint state file ${file} is corrupt: it has ${Math.floor(data.length / 2)} bytes where the checkpoint metadata says ${data.length}`);
    expect(done.failure_cause).toContain(`Retained checkpoints that are still whole: ${older.map((c) => `checkpoint ${c.id} (${c.path})`).join(', ')}.`);
    expect(done.failure_cause).toContain('Weir does not fall back to an older checkpoint by itself');
    // It stays FAILED: no restart is scheduled behind the user's back.
    await new Promise((r) => setTimeout(r, 2000));
    const later = await cluster.status(id);
    expect([later.summary.state, later.summary.restarts]).toEqual(['FAILED', 1]);
    const text = await cluster.cli(['status', id]);
    expect(text.stdout).toContain(`Failure cause: damaged checkpoint state, not restarting: v2#0@1 failed: checkpoint state file ${file} is corrupt`);
    // The damaged checkpoint and the whole ones are kept for the user to inspect.
    for (const c of completed) expect(existsSync(path.join(c.path, '_metadata'))).toBe(true);
  });

  it('weir status shows the cause of a restart while the job is RESTARTING', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 500, 'heartbeat.timeout': 5000 }).start(1, 2);
    const out = path.join(cluster.dir, 'out');
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '1000000', '10', '5000', '200'], ['-p', '2', ...FAST_RESTART]);
    await waitFor('a completed checkpoint', async () => (await cluster!.checkpoints(id)).completed >= 1, 30_000);
    const victim = (await cluster.status(id)).vertices[0].subtasks[0].taskmanager_id;
    cluster.kill(cluster.taskmanagers[0].pid);
    const restarting = await cluster.waitForState(id, ['RESTARTING']);
    expect(restarting.failure_cause).toMatch(new RegExp(`^TaskManager ${victim} lost: `));
    const text = await cluster.cli(['status', id]);
    expect(text.stdout).toContain(`Failure cause: TaskManager ${victim} lost: `);
  });
});

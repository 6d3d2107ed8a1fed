import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, expectedKeyedSum, TestCluster, waitFor, weir } from './harness';
import { describeRecord, makeRecord } from './jobs/record-types';
import { keyOf } from './jobs/key-kinds';

const JOBS = path.join(__dirname, 'jobs');
const NO_RESTART = ['-D', 'restart-strategy.type=none'];

function pidOf(taskmanagerId: string): number {
  // ids are tm-<host>-<pid>-<random>
  return Number(taskmanagerId.split('-').at(-2));
}

/** The first line of the first exception of a failed job: the one line a user reads. */
async function failureOf(cluster: TestCluster, id: string): Promise<string> {
  // Generous: several jobs are bundled and run at once, and the machine may be busy.
  const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 120_000);
  expect(done.summary.state).toBe('FAILED');
  return done.exceptions[0].root_cause.split('\n')[0];
}

describe('records and keys cross tasks as the serializer contract says, chained or not', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await new TestCluster().start(2, 4);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('registered classes, Set, Map, -0, BigInt, Date, typed arrays, RegExp and undefined fields arrive as they left, chained and across tasks', async () => {
    const n = 2000;
    const expected = Array.from({ length: n }, (_, i) => describeRecord(makeRecord(i)));
    const runs = await Promise.all(
      ['chained', 'split'].map(async (mode) => {
        const out = path.join(cluster.dir, `types-${mode}`);
        const id = await cluster.submit(path.join(JOBS, 'record-types.ts'), [out, String(n), mode], ['-p', '2', ...NO_RESTART]);
        const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 60_000);
        return { mode, done, lines: committedLines(out) };
      }),
    );
    for (const { done, lines } of runs) {
      expect(done.exceptions.map((e) => e.root_cause)).toEqual([]);
      expect(done.summary.state).toBe('FINISHED');
      expect(diffLines(lines, expected)).toEqual({ missing: [], extra: [] });
    }
  });

  it('a record the contract refuses fails the job at its first such record with one line naming the operator, the field path and the fix, chained or not', async () => {
    const where = 'operator Map (uid make) emitted a record that cannot be serialized: ';
    const cases: [string, string, string][] = [
      ['function', 'chained', 'record.items[2].handler is a function (handler); records and state hold data only: drop the field and keep the function in the operator'],
      ['function', 'split', 'record.items[2].handler is a function (handler); records and state hold data only: drop the field and keep the function in the operator'],
      ['symbol', 'split', 'record.tag is a symbol (Symbol(t)); symbols cannot be serialized: use a string'],
      ['circular', 'split', 'record.child.parent refers back to record (a circular reference); records and state must be trees: send an id instead of the reference'],
      ['unregistered', 'chained', 'record.at is an instance of class Unregistered, which is not registered; call env.registerType(Unregistered) in the job function'],
      ['unregistered', 'split', 'record.at is an instance of class Unregistered, which is not registered; call env.registerType(Unregistered) in the job function'],
      ['error', 'chained', 'record.err is an Error (RangeError: boom); send String(err) or { name: err.name, message: err.message } instead'],
    ];
    // One after another: weir run type-checks a job file once and remembers it passed.
    const ids: string[] = [];
    for (const [kind, mode] of cases) ids.push(await cluster.submit(path.join(JOBS, 'bad-records.ts'), [path.join(cluster.dir, `bad-${kind}-${mode}`), kind, mode], NO_RESTART));
    for (let c = 0; c < cases.length; c++) {
      const line = await failureOf(cluster, ids[c]);
      expect(line).toMatch(/^v1#0@0 failed: /);
      expect(line.replace(/^v1#0@0 failed: /, '')).toBe(where + cases[c][2]);
    }
  }, 240_000);

  it('with pipeline.object-reuse, as in Flink, chained operators hand records on unchecked; across tasks they are still checked', async () => {
    const reuse = [...NO_RESTART, '-D', 'pipeline.object-reuse=true'];
    const chained = await cluster.submit(path.join(JOBS, 'bad-records.ts'), [path.join(cluster.dir, 'reuse-chained'), 'function', 'chained'], reuse);
    const split = await cluster.submit(path.join(JOBS, 'bad-records.ts'), [path.join(cluster.dir, 'reuse-split'), 'function', 'split'], reuse);
    expect((await cluster.waitForState(chained, ['FINISHED', 'FAILED'], 60_000)).summary.state).toBe('FINISHED');
    expect(await failureOf(cluster, split)).toContain('record.items[2].handler is a function');
  });

  it('a key selector returning undefined or null, or a function as a key, fails the job naming the keyed operator', async () => {
    const fix = 'keys cannot be null or undefined (as in Flink): return a value for every record';
    const cases: [string, string][] = [
      ['undefined-key', `the key selector of Reduce (uid count): key is undefined; ${fix}`],
      ['null-key', `the key selector of Reduce (uid count): key is null; ${fix}`],
      ['function-key', 'the key selector of Reduce (uid count): key is a function; key by a string, number, bigint, boolean or Date, or an array or plain object of those'],
    ];
    const ids: string[] = [];
    for (const [kind] of cases) ids.push(await cluster.submit(path.join(JOBS, 'bad-records.ts'), [path.join(cluster.dir, `bad-${kind}`), kind, 'split'], NO_RESTART));
    for (let c = 0; c < cases.length; c++) {
      const line = await failureOf(cluster, ids[c]);
      expect(line.replace(/^v1#0@0 failed: /, '')).toBe(cases[c][1]);
    }
  }, 240_000);

  it('object keys are one key whatever their field order, and BigInt keys work, across 2 subtasks', async () => {
    const n = 3000;
    const out = path.join(cluster.dir, 'key-kinds');
    const id = await cluster.submit(path.join(JOBS, 'key-kinds.ts'), [out, String(n)], ['-p', '2', ...NO_RESTART]);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 60_000);
    expect(done.exceptions.map((e) => e.root_cause)).toEqual([]);
    const counts = new Map<string, number>();
    const expected: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = keyOf(i);
      const name = `${k.tenant} ${k.id}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      expected.push(`${name} ${counts.get(name)}`);
    }
    expect(counts.size).toBe(15);
    expect(diffLines(committedLines(out), expected)).toEqual({ missing: [], extra: [] });
  });
});

describe('env.registerType used wrongly', () => {
  it('ends weir run with one line and exit 1 before anything is submitted', async () => {
    const cases: [string, string][] = [
      ['not-a-class', "weir: the job's default export failed while building the pipeline: registerType: expected a class, got number"],
      ['same-name', 'weir: the job\'s default export failed while building the pipeline: registerType: two classes are registered as "Point"; pass a distinct name: env.registerType(MyClass, "other.MyClass")'],
    ];
    for (const [mode, line] of cases) {
      // An address nobody listens on: the error comes before the JobManager is asked.
      const r = await weir(['run', path.join(JOBS, 'register-misuse.ts'), '--jobmanager', '127.0.0.1:1', '--', mode]);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      // then where in the job file: (at registerMisuse (.../register-misuse.ts:6:...))
      expect(lines[0].startsWith(line)).toBe(true);
      expect(lines[0].slice(line.length)).toMatch(/^( \(at registerMisuse \(.*register-misuse\.ts:\d+:\d+\)\))?$/);
    }
  });
});

describe('a registered class in ValueState survives a restore', () => {
  let cluster: TestCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('kill -9 of a TaskManager: the job restores Counter values whose methods work, output exact', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 1000, 'heartbeat.timeout': 5000 }).start(3);
    const out = path.join(cluster.dir, 'out');
    const n = 50_000;
    const id = await cluster.submit(path.join(JOBS, 'counter-state.ts'), [out, String(n), '40', '6000'], [
      '-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=3', '-D', 'restart-strategy.fixed-delay.delay=200ms',
    ]);
    await waitFor('two completed checkpoints', async () => (await cluster!.checkpoints(id)).completed >= 2, 30_000);
    const status = await cluster.status(id);
    const victim = status.vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(pidOf(victim));
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.exceptions.map((e) => e.root_cause.split('\n')[0])).toEqual([`TaskManager ${victim} lost`].map((m) => expect.stringContaining(m)));
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(done.last_restore_checkpoint_id).toBeGreaterThan(0);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 40))).toEqual({ missing: [], extra: [] });
  });
});

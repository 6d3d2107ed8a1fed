import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, TestCluster, waitFor, weir, freePort, WEIR } from './harness';

const WORDS = [
  'to be or not to be that is the question',
  'whether tis nobler in the mind to suffer',
  'the slings and arrows of outrageous fortune',
  'or to take arms against a sea of troubles',
  'and by opposing end them to die to sleep',
];

/** Every running count the word count prints: "word n" for n = 1..occurrences. */
function expectedWordCounts(): string[] {
  const counts = new Map<string, number>();
  const out: string[] = [];
  for (const word of WORDS.join(' ').split(/\s+/)) {
    const n = (counts.get(word) ?? 0) + 1;
    counts.set(word, n);
    out.push(`${word} ${n}`);
  }
  return out.sort();
}

describe('cluster foundation: a job across TaskManager processes', () => {
  const cluster = new TestCluster({ 'slot.request.timeout': '2 s' });

  beforeAll(async () => {
    await cluster.start(2);
  });
  afterAll(() => cluster.stop());

  it('runs the keyed word count across 2 TaskManagers with the exact counts', async () => {
    const r = await cluster.cli(['run', path.join(EXAMPLES, 'word-count.ts'), '-p', '2']);
    expect(r.stderr).toContain('FINISHED');
    expect(r.code).toBe(0);
    const printed = await waitFor('all counts printed', () => {
      const lines = cluster.taskmanagers.flatMap((tm) => tm.stdout().split('\n')).filter((l) => /^\d> /.test(l));
      return lines.length >= expectedWordCounts().length ? lines : undefined;
    }, 10_000);
    // Both TaskManagers did part of the work: the "n> " prefix is the subtask.
    const bySubtask = new Set(printed.map((l) => l[0]));
    expect(bySubtask).toEqual(new Set(['1', '2']));
    expect(cluster.taskmanagers.every((tm) => /^\d> /m.test(tm.stdout()))).toBe(true);
    expect(printed.map((l) => l.slice(3)).sort()).toEqual(expectedWordCounts());
  });

  it('lists jobs, shows status and TaskManagers as tables and JSON', async () => {
    const list = await cluster.cli(['list', '--json']);
    const jobs = JSON.parse(list.stdout) as { job_id: string; state: string; name: string }[];
    expect(jobs.some((j) => j.name === 'word-count' && j.state === 'FINISHED')).toBe(true);
    const table = await cluster.cli(['list']);
    expect(table.stdout).toMatch(/JOB ID\s+NAME\s+STATE/);
    const tms = await cluster.cli(['taskmanagers']);
    expect(tms.stdout.split('\n').filter((l) => l.startsWith('tm-'))).toHaveLength(2);
    const status = await cluster.cli(['status', jobs[0].job_id]);
    expect(status.stdout).toContain('FINISHED');
  });

  it('cancels an unbounded job', async () => {
    const out = path.join(cluster.dir, 'cancel-out');
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '100000000', '10', '1000'], ['-p', '2']);
    await cluster.waitForState(id, ['RUNNING']);
    const r = await cluster.cli(['cancel', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CANCELED');
    await waitFor('slots freed', async () => (await cluster.listTaskManagers()).every((tm) => tm.free_slots === 1));
  });

  describe('bad input: one clear line, non-zero exit, the cluster goes on', () => {
    it('a job file that does not compile', async () => {
      const file = path.join(cluster.dir, 'broken.ts');
      writeFileSync(file, 'export default function (env) { env.fromSequence(1, 2).map((x => x) }\n');
      const r = await cluster.cli(['run', file]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^weir: job file .*broken\.ts does not compile: .*broken\.ts:1:\d+: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('a job file without a default export', async () => {
      const file = path.join(cluster.dir, 'no-default.ts');
      writeFileSync(file, 'export const job = 1;\n');
      const r = await cluster.cli(['run', file]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        'weir: the job module has no default export function and built no pipeline: export default (env, args) => { ... }, or build one on StreamExecutionEnvironment.getExecutionEnvironment()',
      );
    });

    it('a missing job file', async () => {
      const r = await cluster.cli(['run', path.join(cluster.dir, 'nope.ts')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('does not exist');
    });

    it('an unknown option', async () => {
      const r = await weir(['list', '--bogus']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("unknown option '--bogus'");
    });

    it('a parallelism above the free slots waits for slot.request.timeout, then fails saying how many', async () => {
      const r = await cluster.cli(['run', path.join(EXAMPLES, 'word-count.ts'), '-p', '5']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('could not get 5 slot(s) within slot.request.timeout (2000 ms): the cluster has 2 slot(s), 2 free');
    });

    it('an unknown job id', async () => {
      for (const command of ['status', 'cancel', 'checkpoints']) {
        const r = await cluster.cli([command, 'ffffffffffffffffffffffffffffffff']);
        expect(r.code).toBe(1);
        expect(r.stderr.trim()).toBe('weir: no job with id ffffffffffffffffffffffffffffffff');
      }
    });

    it('an unreachable JobManager: the address, exit 1, within a few seconds', async () => {
      const port = await freePort();
      const started = Date.now();
      const r = await weir(['list', '--jobmanager', `127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^weir: cannot reach the JobManager at 127\\.0\\.0\\.1:${port}`));
      expect(Date.now() - started).toBeLessThan(8_000);
    });

    it('an invalid config key or value', async () => {
      const badKey = await weir(['jobmanager', '-D', 'execution.checkpointing.intervall=1s']);
      expect(badKey.code).toBe(1);
      expect(badKey.stderr.trim()).toBe('weir: unknown configuration key "execution.checkpointing.intervall" (did you mean "execution.checkpointing.interval"?)');
      const badValue = await weir(['taskmanager', '--jobmanager', cluster.address, '-D', 'taskmanager.numberOfTaskSlots=two']);
      expect(badValue.code).toBe(1);
      expect(badValue.stderr.trim()).toBe('weir: taskmanager.numberOfTaskSlots: expected an integer, got "two"');
      const badFile = path.join(cluster.dir, 'bad.yaml');
      writeFileSync(badFile, 'heartbeat:\n  timeout: soon\n');
      const r = await weir(['list', '--config', badFile]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('weir: heartbeat.timeout: cannot read "soon" as a duration (examples: 500 ms, 1 s, 10 min)');
      const badJobSetting = await cluster.cli(['run', path.join(EXAMPLES, 'word-count.ts'), '-D', 'restart-strategy.type=sometimes']);
      expect(badJobSetting.code).toBe(1);
      expect(badJobSetting.stderr).toContain('restart-strategy.type: "sometimes" is not one of');
    });

    it('still runs jobs after all that', async () => {
      const r = await cluster.cli(['run', path.join(EXAMPLES, 'word-count.ts'), '-p', '2']);
      expect(r.code).toBe(0);
      expect((await cluster.listTaskManagers()).length).toBe(2);
    });
  });

  it('weir cluster starts a JobManager and N TaskManagers as processes and stops them all on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [WEIR, 'cluster', '--taskmanagers', '2', '--port', String(port), '-D', 'rest.port=0', '--log-dir', path.join(cluster.dir, 'cluster-logs')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      const line = await waitFor('the cluster to be up', () => /Weir cluster is up: .*\n/.exec(out)?.[0], 30_000);
      expect(line).toContain(`JobManager at localhost:${port}`);
      const pids = [...line.matchAll(/pid[s]? ([\d, ]+)/g)].flatMap((m) => m[1].split(',').map((x) => Number(x.trim()))).filter(Boolean);
      expect(pids).toHaveLength(3);
      const tms = await weir(['taskmanagers', '--json', '--jobmanager', `127.0.0.1:${port}`]);
      expect(JSON.parse(tms.stdout)).toHaveLength(2);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      await waitFor('every cluster process to exit', () => pids.every((pid) => !alive(pid)), 10_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

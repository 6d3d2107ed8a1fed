// A directory Weir cannot write to is a configuration error: one line naming the
// directory, the user and the fix, reported at once, never a job restarting forever.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, TestCluster, WEIR } from './harness';

// root writes anywhere; without CAP_DAC_OVERRIDE it meets file modes like anyone else.
const DROP_OVERRIDE = process.getuid?.() === 0
  ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search', '--']
  : [];
const uid = process.getuid?.() ?? -1;

function readOnlyDir(parent: string, name: string): string {
  const dir = path.join(parent, name);
  mkdirSync(dir);
  chmodSync(dir, 0o555);
  return dir;
}

describe('permission problems on a real cluster', () => {
  // Many quick restarts allowed: a permission error must not use any of them.
  const cluster = new TestCluster({ 'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.attempts': 1000, 'restart-strategy.fixed-delay.delay': '100 ms' });
  beforeAll(async () => {
    cluster.spawnPrefix = DROP_OVERRIDE;
    await cluster.start(1);
  });
  afterAll(() => cluster.stop());

  it('a file sink that cannot write its directory fails the job at once, FAILED, one line, no restart', async () => {
    const output = readOnlyDir(cluster.dir, 'read-only-output');
    const started = Date.now();
    const r = await cluster.cli(['run', path.join(EXAMPLES, 'keyed-sum.ts'), '--', output, '1000', '10', '', '100'], 60_000);
    const line = `directory ${output} is not writable by uid ${uid} (EACCES: permission denied, open '${output}/.part-0-0-0.inprogress'): make it writable by uid ${uid} or write elsewhere`;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Cause: `);
    expect(r.stderr).toContain(line);
    expect(Date.now() - started).toBeLessThan(20_000);

    const id = /JobID ([0-9a-f]{32})/.exec(r.stdout)![1]!;
    const status = await cluster.status(id);
    expect(status.summary.state).toBe('FAILED');
    expect(status.summary.restarts).toBe(0);
    expect((status as unknown as { failure_cause: string }).failure_cause).toBe(`v2#0@0 failed: ${line} (not restarted: a configuration error)`);
    expect(readdirSync(output)).toEqual([]);
  });
});

describe('a checkpoint directory that turns read-only under a running cluster', () => {
  const cluster = new TestCluster({ 'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.attempts': 1000, 'restart-strategy.fixed-delay.delay': '100 ms' });
  beforeAll(async () => {
    cluster.spawnPrefix = DROP_OVERRIDE;
    await cluster.start(1);
  });
  afterAll(() => cluster.stop());

  it('fails the job at once on the first refused state file, instead of declining checkpoints forever', async () => {
    chmodSync(cluster.checkpointDir, 0o555);
    const output = path.join(cluster.dir, 'output');
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [output, '1000000', '10', '1000', '100']);
    const status = await cluster.waitForState(id, ['FAILED'], 20_000);
    expect(status.summary.restarts).toBe(0);
    const dir = cluster.checkpointDir;
    expect((status as unknown as { failure_cause: string }).failure_cause).toMatch(new RegExp(
      `^v\\d#\\d@0 failed: writing state failed: directory ${dir} is not writable by uid ${uid} \\(EACCES: permission denied, mkdir '${dir}/${id}'\\): make it writable by uid ${uid} or write elsewhere \\(not restarted: a configuration error\\)$`,
    ));
  });
});

describe('a JobManager whose checkpoint directory is not writable', () => {
  it('exits 1 at start with one line naming the setting, the directory and the user', () => {
    const cluster = new TestCluster();
    const parent = readOnlyDir(cluster.dir, 'read-only');
    const checkpoints = path.join(parent, 'checkpoints');
    const [command, ...prefix] = [...DROP_OVERRIDE, process.execPath];
    const r = spawnSync(command!, [...prefix, WEIR, 'jobmanager', '-D', `state.checkpoints.dir=${checkpoints}`, '-D', 'jobmanager.rpc.port=0', '-D', 'rest.port=0', '-D', `jobmanager.store.dir=${path.join(cluster.dir, 'store')}`], { encoding: 'utf8', timeout: 30_000, cwd: cluster.dir });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`weir: state.checkpoints.dir: directory ${parent} is not writable by uid ${uid} (EACCES: permission denied, mkdir '${checkpoints}'): make it writable by uid ${uid} or write elsewhere`);
  });
});

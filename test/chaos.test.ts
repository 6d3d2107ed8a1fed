import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAsync } from './run-async';

describe('chaos drill (CI-sized)', () => {
  it('10 random kill -9 of TaskManagers with replacements and 2 of the JobManager: the committed output is exact', async () => {
    const r = await runAsync(path.resolve(__dirname, '../scripts/chaos'), ['--kills', '10', '--jobmanager-kills', '2', '--interval', '2500', '--records', '300000', '--rate', '10000', '--seed', '42'], {
      timeout: 115_000,
    });
    const summary = r.stdout.split('\n').find((l) => /^(PASS|FAIL)/.test(l));
    expect(summary, r.stdout + r.stderr).toMatch(/^PASS: 10 kills, 2 JobManager kills, \d+ restarts, job FINISHED, 300000 committed lines, expected 300000; missing 0, duplicated 0, unexpected 0$/);
    expect(r.status).toBe(0);
  }, 120_000);

  it('on the lmdb backend with incremental checkpoints: exact output after kill -9s, and no shared file left that no checkpoint references', async () => {
    const r = await runAsync(path.resolve(__dirname, '../scripts/chaos'), [
      '--kills', '5', '--interval', '2500', '--records', '150000', '--rate', '10000', '--keys', '5000', '--seed', '7',
      '-D', 'state.backend.type=lmdb', '-D', 'execution.checkpointing.incremental=true', '-D', 'state.backend.changelog.max-chain-length=5',
    ], { timeout: 115_000 });
    const summary = r.stdout.split('\n').find((l) => /^(PASS|FAIL)/.test(l));
    expect(summary, r.stdout + r.stderr).toMatch(/^PASS: 5 kills, \d+ restarts, job FINISHED, 150000 committed lines, expected 150000; missing 0, duplicated 0, unexpected 0$/);
    // incremental checkpoints did write deltas; PASS includes that no shared file is left unreferenced
    // (a FINISHED job's checkpoints are deleted with their shared files, as in Flink)
    expect(r.stdout).toMatch(/incremental checkpoints: [1-9]\d* of \d+ completed wrote less than the whole state/);
    expect(r.status).toBe(0);
  }, 120_000);
});

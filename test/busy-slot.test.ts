import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { committedLines, diffLines, expectedKeyedSum, TestCluster } from './harness';

const JOBS = path.join(__dirname, 'jobs');

describe('user code that blocks its slot thread', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  // The heartbeat session lives on the TaskManager's main thread and the data exchange
  // waits for keepalive answers as long as a heartbeat timeout: a busy slot is not a dead one.
  it('a map that blocks 10 s once neither breaks a connection nor fails the job; output exact', async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 500, 'heartbeat.timeout': 20_000 }).start(2);
    const out = path.join(cluster.dir, 'out');
    const marker = path.join(cluster.dir, 'blocked');
    const n = 24_000;
    const id = await cluster.submit(path.join(JOBS, 'blocking-map.ts'), [out, String(n), '20', '10000', marker], [
      '-p', '2', '-D', 'restart-strategy.type=none',
    ]);
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(existsSync(marker)).toBe(true);
    expect(done.failure_cause).toBe('');
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(0);
    expect(diffLines(committedLines(out), expectedKeyedSum(n, 20))).toEqual({ missing: [], extra: [] });
  }, 120_000);
});

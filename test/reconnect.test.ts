import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, waitFor } from './harness';

/** Long enough for a reused gRPC channel's own backoff to pass 10 s between tries; WEIR_TEST_OUTAGE_MS sets another length. */
const OUTAGE_MS = Number(process.env.WEIR_TEST_OUTAGE_MS ?? 30_000);

describe('TaskManagers come back fast after a JobManager outage (finding 7)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it(`register again within about cluster.registration.max-timeout of the JobManager's return after a ${OUTAGE_MS / 1000} s outage`, async () => {
    cluster = await new TestCluster({ 'heartbeat.interval': 500, 'heartbeat.timeout': 5000 }).start(2);
    const exited = cluster.jobManagerExit();
    cluster.kill(cluster.jobmanager!.pid!);
    await exited;
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await cluster.startJobManager();
    const back = Date.now();
    await waitFor('both TaskManagers to register again', async () => (await cluster!.listTaskManagers()).length === 2, 60_000, 50);
    const took = Date.now() - back;
    console.log(`TaskManagers registered again ${took} ms after the JobManager answered (outage ${OUTAGE_MS} ms)`);
    // cluster.registration.max-timeout is 1 s: one pause at most, plus a connection and a registration.
    expect(took).toBeLessThan(2000);
  }, OUTAGE_MS + 90_000);
});

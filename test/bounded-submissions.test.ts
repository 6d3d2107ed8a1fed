import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_OPTIONS, grpc, protos } from '@weir/core';
import { TestCluster, waitFor } from './harness';

type Client = Record<string, Function> & { close(): void };

function submitter(address: string) {
  const client = new (protos().ClientService)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as Client;
  const submit = (request: object) =>
    new Promise<string>((resolve) => client.SubmitJob(request, (err: grpc.ServiceError | null, res: { job_id: string }) => resolve(err ? `${grpc.status[err.code]}: ${err.details}` : `OK ${res.job_id}`)));
  return { submit, close: () => client.close() };
}

const source = (parallelism: number, maxParallelism: number) => ({ id: 'v1', name: 'source', parallelism, max_parallelism: maxParallelism, is_source: true, operators: [] });

describe('bounded submissions: a poison job fails alone, never the JobManager (finding 6)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('refuses parallelism and max parallelism beyond Flink\'s limits, and submissions above the size limit, with one clear error each', async () => {
    cluster = await new TestCluster({ 'jobmanager.submission.max-size': 1_048_576 }).start(1);
    const { submit, close } = submitter(cluster.address);
    try {
      expect(await submit({ graph: { vertices: [source(2147483647, 2147483647)] }, bundle: Buffer.from('x') })).toBe(
        'INVALID_ARGUMENT: vertex v1 (source) has max parallelism 2147483647: it must be between 1 and 32768',
      );
      expect(await submit({ graph: { vertices: [source(32769, 32768)] }, bundle: Buffer.from('x') })).toBe(
        'INVALID_ARGUMENT: vertex v1 (source) has parallelism 32769 above its max parallelism 32768',
      );
      expect(await submit({ graph: { vertices: [source(1, 0)] }, bundle: Buffer.from('x') })).toBe(
        'INVALID_ARGUMENT: vertex v1 (source) has max parallelism 0: it must be between 1 and 32768',
      );
      expect(await submit({ graph: { vertices: [source(1, 128)] }, bundle: Buffer.alloc(1_048_576 + 10, 'a') })).toMatch(
        /^INVALID_ARGUMENT: the submission is \d+ bytes, above jobmanager.submission.max-size \(1048576 bytes\)$/,
      );
      expect(await submit({ graph: { vertices: [source(1, 128)] }, bundle: Buffer.alloc(4_000_000, 'a') })).toMatch(/^RESOURCE_EXHAUSTED: Received message larger than max/);
    } finally {
      close();
    }
    // The JobManager is alive and well.
    expect((await cluster.listTaskManagers()).length).toBe(1);
  });

  it('a stored job beyond the limits fails alone at start, on every restart; the JobManager keeps serving', async () => {
    cluster = new TestCluster();
    // A job stored by an older JobManager, before the limits existed.
    const jobId = 'f'.repeat(32);
    const jobDir = path.join(cluster.dir, 'jobmanager', jobId);
    mkdirSync(jobDir, { recursive: true });
    writeFileSync(path.join(jobDir, 'bundle.js'), 'module.exports = {}');
    writeFileSync(path.join(jobDir, 'job.json'), JSON.stringify({
      jobId, graph: { name: 'poison', vertices: [source(2147483647, 2147483647)], edges: [], checkpoint_interval_ms: 0, checkpointing_mode: 'EXACTLY_ONCE', bounded: true, config: {} },
      args: [], config: {}, submittedAt: Date.now(), state: 'RUNNING', endTime: 0, failureCause: '', attempt: 0, restarts: 0, exceptions: [],
    }));
    for (let start = 0; start < 2; start++) {
      await cluster.startJobManager();
      const status = await cluster.status(jobId);
      expect(status.summary.state).toBe('FAILED');
      expect(status.failure_cause).toBe('the stored job cannot be resumed: vertex v1 (source) has max parallelism 2147483647: it must be between 1 and 32768');
      await cluster.startTaskManager();
      expect((await cluster.cli(['list'])).code).toBe(0);
      const exited = cluster.jobManagerExit();
      cluster.kill(cluster.jobmanager!.pid!);
      await exited;
    }
  });

  it('a job the cluster cannot schedule fails with the reason; the JobManager keeps running', async () => {
    cluster = await new TestCluster({ 'slot.request.timeout': 1000 }).start(1);
    const { submit, close } = submitter(cluster.address);
    let id: string;
    try {
      const result = await submit({ graph: { name: 'huge', vertices: [source(32768, 32768)], edges: [] }, bundle: Buffer.from('module.exports = {}') });
      expect(result).toMatch(/^OK [0-9a-f]{32}$/);
      id = result.slice(3);
    } finally {
      close();
    }
    const done = await cluster.waitForState(id, ['FAILED'], 20_000);
    expect(done.failure_cause).toBe('could not get 32768 slot(s) within slot.request.timeout (1000 ms): the cluster has 1 slot(s), 1 free');
    await waitFor('the JobManager to answer', async () => (await cluster!.listTaskManagers()).length === 1);
  });
});

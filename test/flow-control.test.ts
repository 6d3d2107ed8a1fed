import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_OPTIONS, grpc, protos } from '@weir/core';
import { BATCH_RECORDS, MAX_BACKLOG } from '@weir/runtime';
import { TestCluster, waitFor } from './harness';

describe('data exchange and the wire', () => {
  const cluster = new TestCluster();
  beforeAll(async () => {
    await cluster.start(2);
  });
  afterAll(() => cluster.stop());

  it('a slow sink slows its producer: records in flight stay bounded by the credits', async () => {
    const id = await cluster.submit(path.join(__dirname, 'jobs', 'slow-sink.ts'), []);
    await cluster.waitForState(id, ['RUNNING']);
    const inFlight: number[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const s = await cluster.status(id);
      const out = s.vertices[0].subtasks.reduce((n, t) => n + (t as unknown as { records_out: number }).records_out, 0);
      const sunk = s.vertices[1].subtasks.reduce((n, t) => n + (t as unknown as { records_in: number }).records_in, 0);
      inFlight.push(out - sunk);
    }
    await cluster.cli(['cancel', id]);
    console.log(`records in flight each second: ${inFlight.join(', ')}`);
    const sinkRate = 2 * 1000; // two sink subtasks at 1 ms per record
    // Unbounded buffering would let the source run at hundreds of thousands per second;
    // with credits it can be ahead by at most the batches the channels may hold (plus
    // one metrics report interval of progress): per sink subtask, a full backlog and as
    // many batches again on the initial credits (4, slot-runtime.ts).
    for (const n of inFlight.slice(2)) expect(n).toBeLessThan(2 * BATCH_RECORDS * (MAX_BACKLOG + 4) + 2 * sinkRate);
    expect(Math.max(...inFlight)).toBeGreaterThan(0);
  });

  it('malformed client messages get one clear error and the JobManager keeps running', async () => {
    const client = new (protos().ClientService)(cluster.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as Record<string, Function> & { close(): void };
    const submit = (request: object) =>
      new Promise<string>((resolve) => client.SubmitJob(request, (err: grpc.ServiceError | null) => resolve(err ? `${grpc.status[err.code]}: ${err.details}` : 'OK')));
    try {
      expect(await submit({})).toBe('INVALID_ARGUMENT: the job graph has no vertices');
      const vertex = { id: 'v1', name: 'source', parallelism: 1, max_parallelism: 128, is_source: true };
      expect(await submit({ graph: { vertices: [vertex], edges: [{ source: 'v1', target: 'v9', partitioning: 'HASH' }] }, bundle: Buffer.from('x') })).toBe(
        'INVALID_ARGUMENT: job edge v1 -> v9 names an unknown vertex',
      );
      expect(await submit({ graph: { vertices: [{ ...vertex, parallelism: 0 }] }, bundle: Buffer.from('x') })).toBe(
        'INVALID_ARGUMENT: vertex v1 (source) has parallelism 0: it must be at least 1',
      );
      expect(await submit({ graph: { vertices: [vertex] } })).toBe('INVALID_ARGUMENT: the job bundle is empty');
      expect(await submit({ graph: { vertices: [vertex] }, bundle: Buffer.from('x'), config: { 'heartbeat.timeout': 'never' } })).toBe(
        'INVALID_ARGUMENT: heartbeat.timeout: cannot read "never" as a duration (examples: 500 ms, 1 s, 10 min)',
      );
    } finally {
      client.close();
    }
    await waitFor('the JobManager to answer', async () => (await cluster.listTaskManagers()).length === 2);
  });
});

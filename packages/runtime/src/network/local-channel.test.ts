import { describe, expect, it } from 'vitest';
import { decodeBatch, JobError, keyGroupFor, keyToString, operatorIndexForKeyGroup, RecordSerializer } from '@weir/core';
import { batchBytes, batchSize, type ChannelItem, type LocalBatchItem } from './events';
import { InputGate } from './input-gate';
import { RecordWriter } from './record-writer';
import { ResultSubpartition } from './result-subpartition';

/** A writer whose subpartitions all have a consumer in the same thread, collecting what arrives. */
function localWriter(n: number, partitioning: 'FORWARD' | 'HASH', segmentSize = 32 * 1024) {
  const subs = Array.from({ length: n }, () => new ResultSubpartition(() => {}));
  const batches: LocalBatchItem[][] = subs.map(() => []);
  const deliverTo = (i: number) => (item: ChannelItem) => {
    if (item.kind !== 'batch') return;
    if (item.data) throw new Error('a batch to a consumer in the same thread was encoded');
    batches[i].push(item);
  };
  subs.forEach((s, i) => s.attach({ deliver: deliverTo(i) }, 1_000_000, true));
  const keyOf = partitioning === 'HASH' ? (v: unknown) => (v as { key: unknown }).key : undefined;
  const w = new RecordWriter(subs, partitioning, keyOf, 128, 0, new RecordSerializer(), undefined, segmentSize);
  w.producer = 'operator Make (uid make) emitted a record that cannot be serialized';
  return { w, subs, batches };
}

describe('a channel to a consumer in the same slot thread', () => {
  it('hands over the emitted records themselves, in order, with their key groups, not encoded', () => {
    const { w, batches } = localWriter(2, 'HASH');
    const sent = Array.from({ length: 10_000 }, (_, i) => ({ key: (i * 7919) % 3000, value: i }));
    for (const r of sent) w.emit(r);
    w.flush();
    for (let t = 0; t < 2; t++) {
      const got = batches[t].flatMap((b) => b.records);
      const expected = sent.filter((r) => operatorIndexForKeyGroup(keyGroupFor(keyToString(r.key), 128), 2, 128) === t);
      expect(got).toHaveLength(expected.length);
      got.forEach((r, i) => expect(r).toBe(expected[i]));
      // Each batch has its own key groups: the writer's column is reused for the next batch.
      const groups = batches[t].flatMap((b) => Array.from(b.keyGroups?.groups ?? []));
      expect(groups).toEqual(expected.map((r) => keyGroupFor(keyToString(r.key), 128)));
      for (const b of batches[t]) expect(b.keyGroups?.maxParallelism).toBe(128);
    }
  });

  it('passes records the contract allows that are not flat (text, nested data, Map, Date) unchanged', () => {
    const { w, batches } = localWriter(1, 'FORWARD');
    const sent = ['text', { a: { b: [1, 'x'] } }, new Map([[1, 2]]), new Date(5), { n: -0 }, 7];
    for (const r of sent) w.emit(r);
    w.flush();
    expect(batches[0].flatMap((b) => b.records)).toEqual(sent);
  });

  it('fails on a record the contract refuses, naming the producer and the field, as encoding would', () => {
    for (const bad of [{ i: 1, f: () => 1 }, { i: 1, s: Symbol('t') }, [1, { g: () => 2 }]]) {
      const { w } = localWriter(1, 'FORWARD');
      w.emit({ i: 0 });
      w.emit(bad);
      expect(() => w.flush()).toThrow(JobError);
      expect(() => {
        const again = localWriter(1, 'FORWARD').w;
        again.emit(bad);
        again.flush();
      }).toThrow(/^operator Make \(uid make\) emitted a record that cannot be serialized: record/);
    }
  });

  it('keeps measuring the bytes per record, so batches of records that grew are cut by bytes', () => {
    const { w, batches } = localWriter(1, 'FORWARD', 16 * 1024);
    for (let i = 0; i < 40_000; i++) w.emit({ i });
    for (let i = 0; i < 20_000; i++) w.emit({ i, pad: 'p'.repeat(1000) });
    w.flush();
    const large = batches[0].filter((b) => (b.records as { pad?: string }[]).some((r) => r.pad));
    // Within eight batches of the change (one in eight is measured), each holds about 16 records.
    expect(large.slice(-5).every((b) => b.count <= 20)).toBe(true);
    expect(batchSize(large.at(-2) as LocalBatchItem)).toBeGreaterThan(10_000);
  });

  it('an unaligned barrier that overtakes local batches stores them as bytes that decode to the records', () => {
    const sub = new ResultSubpartition(() => {});
    sub.attach({ deliver: () => {} }, 0, true);
    const w = new RecordWriter([sub], 'FORWARD', undefined, 128, 0, new RecordSerializer());
    for (const v of [{ a: 1 }, { a: 2 }]) {
      w.emit(v);
      w.flush();
    }
    w.emit('three');
    const state = w.broadcastPriorityBarrier(3, 30);
    expect(state[0].map((b) => decodeBatch(b))).toEqual([[{ a: 1 }], [{ a: 2 }], ['three']]);
  });

  it('an input channel recording in-flight data for an unaligned checkpoint records a local batch as bytes', () => {
    const gate = new InputGate();
    const channel = gate.addChannel('a#0 -> b');
    channel.recordingFor = 4;
    const records = [{ key: 1, value: 2 }, { key: 3, value: 4 }];
    const item: LocalBatchItem = { kind: 'batch', count: 2, records, bytes: 10, serializer: new RecordSerializer() };
    channel.deliver(item);
    expect(channel.recorded.map((b) => decodeBatch(b))).toEqual([records]);
    expect(channel.bytesDelivered).toBe(10);
    expect(decodeBatch(batchBytes(item))).toEqual(records);
  });
});

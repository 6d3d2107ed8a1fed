import { describe, expect, it } from 'vitest';
import { decodeBatch, keyGroupFor, keyToString, operatorIndexForKeyGroup, RecordSerializer } from '@weir/core';
import { batchBytes, type ChannelItem } from './events';
import { MAX_BACKLOG, RecordWriter } from './record-writer';
import { ResultSubpartition } from './result-subpartition';

const batch = (n: number): ChannelItem => ({ kind: 'batch', data: Buffer.from([n]), count: n });
const barrier = (id: number): ChannelItem => ({ kind: 'barrier', checkpointId: id, timestamp: id * 10 });

/** Short names for what the consumer received: b<count>, |<checkpoint id>, end. */
function label(item: ChannelItem): string {
  return item.kind === 'batch' ? `b${item.count}` : item.kind === 'barrier' ? `|${item.checkpointId}` : 'end';
}

function setup() {
  let backlogChanges = 0;
  const sub = new ResultSubpartition(() => backlogChanges++);
  const received: string[] = [];
  const consumer = { deliver: (item: ChannelItem) => void received.push(label(item)) };
  return { sub, received, consumer, backlogChanges: () => backlogChanges };
}

describe('ResultSubpartition (credit-based flow control)', () => {
  it('queues everything until a consumer attaches', () => {
    const t = setup();
    t.sub.add(batch(1));
    t.sub.add(barrier(1));
    expect(t.sub.backlog).toBe(1);
    expect(t.sub.isAttached()).toBe(false);
    expect(t.backlogChanges()).toBe(0);
    t.sub.attach(t.consumer, 5);
    expect(t.received).toEqual(['b1', '|1']);
    expect(t.sub.backlog).toBe(0);
    expect(t.backlogChanges()).toBe(1);
  });

  it('delivers a batch only against a credit', () => {
    const t = setup();
    t.sub.attach(t.consumer, 2);
    for (const n of [1, 2, 3, 4]) t.sub.add(batch(n));
    expect(t.received).toEqual(['b1', 'b2']);
    expect(t.sub.backlog).toBe(2);
    t.sub.addCredit(1);
    expect(t.received).toEqual(['b1', 'b2', 'b3']);
    expect(t.sub.backlog).toBe(1);
    t.sub.addCredit(5);
    expect(t.received).toEqual(['b1', 'b2', 'b3', 'b4']);
    expect(t.sub.backlog).toBe(0);
    // the unused credits are kept for later batches
    t.sub.add(batch(5));
    t.sub.add(batch(6));
    expect(t.received.slice(4)).toEqual(['b5', 'b6']);
  });

  it('events need no credit but stay behind the batches queued before them', () => {
    const t = setup();
    t.sub.attach(t.consumer, 0);
    t.sub.add(barrier(7)); // nothing ahead of it: goes at once
    expect(t.received).toEqual(['|7']);
    t.sub.add(batch(1));
    t.sub.add(barrier(8));
    t.sub.add(batch(2));
    t.sub.add({ kind: 'end' });
    expect(t.received).toEqual(['|7']);
    expect(t.sub.backlog).toBe(2);
    t.sub.addCredit(1);
    expect(t.received).toEqual(['|7', 'b1', '|8']);
    expect(t.sub.backlog).toBe(1);
    t.sub.addCredit(1);
    expect(t.received).toEqual(['|7', 'b1', '|8', 'b2', 'end']);
    expect(t.sub.backlog).toBe(0);
  });

  it('calls the backlog callback when batches leave, not when only events do', () => {
    const t = setup();
    t.sub.attach(t.consumer, 0);
    t.sub.add(batch(1));
    t.sub.add(batch(2));
    expect(t.backlogChanges()).toBe(0);
    t.sub.addCredit(2); // one drain, two batches: one wake-up
    expect(t.backlogChanges()).toBe(1);
    t.sub.add(barrier(1));
    t.sub.addCredit(1);
    expect(t.backlogChanges()).toBe(1);
    t.sub.add(batch(3)); // delivered with the spare credit
    expect(t.backlogChanges()).toBe(2);
  });

  it('release drops the queue, zeroes the backlog, wakes the producer and ignores later items', () => {
    const t = setup();
    t.sub.attach(t.consumer, 0);
    t.sub.add(batch(1));
    t.sub.add(batch(2));
    t.sub.release();
    expect(t.sub.backlog).toBe(0);
    expect(t.sub.released).toBe(true);
    expect(t.sub.isAttached()).toBe(false);
    expect(t.backlogChanges()).toBe(1);
    t.sub.add(batch(3));
    t.sub.addCredit(10);
    expect(t.sub.backlog).toBe(0);
    expect(t.received).toEqual([]);
  });
});

describe('RecordWriter', () => {
  function writer(n: number, partitioning: 'FORWARD' | 'REBALANCE' | 'HASH' | 'BROADCAST', producerSubtask = 0) {
    const subs = Array.from({ length: n }, () => new ResultSubpartition(() => {}));
    const got: unknown[][] = subs.map(() => []);
    subs.forEach((s, i) =>
      s.attach({ deliver: (item) => void (item.kind === 'batch' ? got[i].push(...decodeBatch(batchBytes(item))) : got[i].push(label(item))) }, 1000),
    );
    const w = new RecordWriter(subs, partitioning, partitioning === 'HASH' ? (v) => (v as { k: string }).k : undefined, 128, producerSubtask);
    return { w, subs, got };
  }

  it('round-robins from the producer subtask on rebalance, and barriers follow the records', () => {
    const { w, got } = writer(3, 'REBALANCE', 1);
    for (const v of [10, 11, 12, 13]) w.emit(v);
    w.broadcastBarrier(4, 40);
    expect(got).toEqual([[12, '|4'], [10, 13, '|4'], [11, '|4']]);
  });

  it('routes by key group on hash, so a key always goes to the subtask owning its group', () => {
    const { w, got } = writer(4, 'HASH');
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'a'];
    for (const k of keys) w.emit({ k });
    w.flush();
    for (const k of keys) {
      const target = operatorIndexForKeyGroup(keyGroupFor(keyToString(k), 128), 4, 128);
      expect(got[target]).toContainEqual({ k });
      got.forEach((g, i) => i !== target && expect(g).not.toContainEqual({ k }));
    }
    expect(got.flat()).toHaveLength(7);
  });

  it('sends each record\'s key group with a batch of columns on hash, for the max parallelism it was computed for', () => {
    const subs = [0, 1, 2].map(() => new ResultSubpartition(() => {}));
    const got = subs.map(() => [] as { records: unknown[]; keyGroups?: { maxParallelism: number; groups: ArrayLike<number> } }[]);
    const serializer = new RecordSerializer();
    subs.forEach((s, i) => s.attach({ deliver: (item) => void (item.kind === 'batch' && got[i].push(serializer.decodeBatchWithKeyGroups(batchBytes(item)))) }, 1000));
    const w = new RecordWriter(subs, 'HASH', (v) => (v as { key: number }).key, 128, 0, serializer);
    for (let i = 0; i < 1000; i++) w.emit({ key: i % 37, value: i });
    w.emit({ key: 'text', value: 1 }); // another field type: this batch goes as msgpack, without groups
    w.flush();
    let records = 0;
    for (const batches of got) {
      for (const { records: batch, keyGroups } of batches) {
        records += batch.length;
        if (batch.some((r) => typeof (r as { key: unknown }).key === 'string')) {
          expect(keyGroups).toBeUndefined();
          continue;
        }
        expect(keyGroups?.maxParallelism).toBe(128);
        batch.forEach((r, i) => expect(keyGroups?.groups[i]).toBe(keyGroupFor(keyToString((r as { key: number }).key), 128)));
      }
    }
    expect(records).toBe(1001);
  });

  it('on a hash edge, every record arrives once, in order, with its own key group, however batches are cut (full, flushed part-full, records changing size)', () => {
    const subs = [0, 1, 2].map(() => new ResultSubpartition(() => {}));
    const got = subs.map(() => [] as unknown[]);
    const groups = subs.map(() => [] as number[]);
    const serializer = new RecordSerializer();
    subs.forEach((s, i) => s.attach({
      deliver: (item) => {
        if (item.kind !== 'batch') return;
        const { records, keyGroups } = serializer.decodeBatchWithKeyGroups(batchBytes(item));
        got[i].push(...records);
        // Batches that are not columns (text fields) carry no groups: the consumer hashes their keys.
        records.forEach((r, j) => groups[i].push(keyGroups ? keyGroups.groups[j] : keyGroupFor(keyToString((r as { key: number }).key), 128)));
      },
    }, 1_000_000));
    const w = new RecordWriter(subs, 'HASH', (v) => (v as { key: number }).key, 128, 0, serializer, undefined, 16 * 1024);
    const sent: { key: number; value: number; pad?: string }[] = [];
    let x = 5;
    for (let i = 0; i < 30_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      // Runs of small records, then of larger ones (the batch limit moves), with flushes between.
      const record = Math.floor(i / 4000) % 2 === 0 ? { key: x % 5000, value: i } : { key: x % 5000, value: i, pad: 'p'.repeat(x % 200) };
      sent.push(record);
      w.emit(record);
      if (x % 997 === 0) w.flush();
    }
    w.flush();
    for (let t = 0; t < 3; t++) {
      const expected = sent.filter((r) => operatorIndexForKeyGroup(keyGroupFor(keyToString(r.key), 128), 3, 128) === t);
      expect(got[t]).toEqual(expected);
      expect(groups[t]).toEqual(expected.map((r) => keyGroupFor(keyToString(r.key), 128)));
    }
  });

  it('broadcasts to every subpartition and ends every one', () => {
    const { w, got } = writer(2, 'BROADCAST');
    w.emit('x');
    w.broadcastEnd();
    expect(got).toEqual([['x', 'end'], ['x', 'end']]);
  });

  it('reports unavailable once a subpartition holds MAX_BACKLOG undelivered batches', () => {
    const sub = new ResultSubpartition(() => {});
    const w = new RecordWriter([sub], 'FORWARD', undefined, 128, 0);
    for (let i = 0; i < MAX_BACKLOG - 1; i++) {
      w.emit(i);
      w.flush();
    }
    expect(w.isAvailable()).toBe(true);
    expect(w.usage()).toBe((MAX_BACKLOG - 1) / MAX_BACKLOG);
    w.emit('last');
    w.flush();
    expect(w.isAvailable()).toBe(false);
    expect(w.usage()).toBe(1);
    sub.attach({ deliver: () => {} }, 1);
    expect(w.isAvailable()).toBe(true);
  });
});

describe('RecordWriter: batches cut by bytes, unaligned barriers', () => {
  function writer(segmentSize: number) {
    const sub = new ResultSubpartition(() => {});
    const sizes: number[] = [];
    const counts: number[] = [];
    sub.attach({ deliver: (item) => void (item.kind === 'batch' && (sizes.push(batchBytes(item).length), counts.push(item.count))) }, 1_000_000);
    return { w: new RecordWriter([sub], 'FORWARD', undefined, 128, 0, undefined, undefined, segmentSize), sub, sizes, counts };
  }

  it('cuts a batch near segment-size bytes, and a record larger than that travels alone', () => {
    const t = writer(4096);
    for (let i = 0; i < 1000; i++) t.w.emit({ i, s: 'x'.repeat(100) });
    t.w.flush();
    expect(t.counts.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const size of t.sizes.slice(0, -1)) expect(size).toBeLessThanOrEqual(4096 * 1.25);
    expect(Math.max(...t.counts)).toBeLessThan(512);
    const big = writer(4096);
    for (let i = 0; i < 3; i++) big.w.emit('y'.repeat(100_000));
    expect(big.counts).toEqual([1, 1, 1]);
  });

  it('follows a size change at once: after small records, a run of large ones is not batched by the small size', () => {
    const t = writer(32 * 1024);
    for (let i = 0; i < 600; i++) t.w.emit(i);
    t.w.flush();
    t.counts.length = 0;
    for (let i = 0; i < 6; i++) t.w.emit('z'.repeat(1024 * 1024));
    t.w.flush();
    // the first large record may ride with the small-size estimate; the ones after go alone
    expect(t.counts.slice(1).every((c) => c === 1)).toBe(true);
  });

  it('uses the batch size a debloating consumer asked for', () => {
    const t = writer(32 * 1024);
    t.sub.batchBytes = 1024;
    for (let i = 0; i < 2000; i++) t.w.emit({ i, s: 'x'.repeat(40) });
    t.w.flush();
    expect(Math.max(...t.sizes.slice(0, -1))).toBeLessThanOrEqual(1024 * 1.25);
  });

  it('an unaligned barrier overtakes the queued batches, which are returned as the checkpoint\'s output state', () => {
    const sub = new ResultSubpartition(() => {});
    const received: string[] = [];
    sub.attach({ deliver: (item) => void received.push(label(item)) }, 1);
    const w = new RecordWriter([sub], 'FORWARD', undefined, 128, 0);
    for (const v of [1, 2, 3]) {
      w.emit(v);
      w.flush();
    }
    w.emit(4); // still in the writer: flushed into the state too
    const state = w.broadcastPriorityBarrier(9, 90);
    expect(received).toEqual(['b1', '|9']); // one batch had a credit; the barrier needs none
    expect(state[0].map((b) => decodeBatch(b))).toEqual([[2], [3], [4]]);
  });
});

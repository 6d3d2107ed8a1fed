import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, keyGroupFor, keyGroupRangeFor, keyToString } from '@weir/core';
import { batchBytes } from '../network/events';
import { RecordWriter } from '../network/record-writer';
import { ResultSubpartition } from '../network/result-subpartition';
import { inputRecordsToReplay, replayOutputs, type StoredChannelState } from './channel-state';

/** Old subtask s of p held in-flight input records s*100 .. s*100+9 and output records 1000 above those. */
function stored(p: number): StoredChannelState[] {
  return Array.from({ length: p }, (_, s) => {
    const records = Array.from({ length: 10 }, (_, i) => s * 100 + i);
    return {
      subtask: s,
      parallelism: p,
      state: {
        inputs: [{ channel: `c${s}`, batches: [encodeBatch(records.slice(0, 5)), encodeBatch(records.slice(5))] }],
        outputs: [{ consumerVertexId: 'down', partitioning: 'HASH' as const, batches: [[encodeBatch(records.map((r) => r + 1000))]] }],
      },
    };
  });
}

const all = (p: number) => stored(p).flatMap((s) => s.state.inputs.flatMap((i) => i.batches.flatMap((b) => decodeBatch(b) as number[])));

describe('channel state at restore', () => {
  it('same parallelism: each subtask replays exactly its own in-flight records, in order', () => {
    expect(inputRecordsToReplay(stored(2), 1, 2).flat()).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  });

  for (const [from, to] of [[3, 2], [2, 3], [4, 1]]) {
    it(`non-keyed, ${from} -> ${to}: every record is replayed exactly once somewhere`, () => {
      const replayed = Array.from({ length: to }, (_, s) => inputRecordsToReplay(stored(from), s, to).flat() as number[]).flat();
      expect(replayed.sort((a, b) => a - b)).toEqual(all(from).sort((a, b) => a - b));
    });

    it(`keyed, ${from} -> ${to}: every record goes to the subtask that owns its key group now`, () => {
      const keySelector = (v: unknown) => (v as number) % 7;
      const per = Array.from({ length: to }, (_, s) => {
        const range = keyGroupRangeFor(s, to, 128);
        return inputRecordsToReplay(stored(from), s, to, { keySelector, maxParallelism: 128, ...range }).flat() as number[];
      });
      expect(per.flat().sort((a, b) => a - b)).toEqual(all(from).sort((a, b) => a - b));
      per.forEach((records, s) => {
        const range = keyGroupRangeFor(s, to, 128);
        for (const r of records) {
          const g = keyGroupFor(keyToString(keySelector(r)), 128);
          expect(g >= range.start && g <= range.end).toBe(true);
        }
      });
    });
  }

  it('outputs: same shape goes back to the same subpartition; another parallelism is routed again by key', () => {
    const subs = () => [new ResultSubpartition(() => {}), new ResultSubpartition(() => {})];
    const collect = (s: ResultSubpartition[]) => {
      const got: number[][] = s.map(() => []);
      s.forEach((sub, i) => sub.attach({ deliver: (item) => void (item.kind === 'batch' && got[i].push(...(decodeBatch(batchBytes(item)) as number[]))) }, 100));
      return got;
    };
    // old: 2 producers, each with one subpartition towards `down`; new: 1 producer, 2 consumers
    const keySelector = (v: unknown) => v;
    const s1 = subs();
    const w1 = new RecordWriter(s1, 'HASH', keySelector, 128, 0, undefined, undefined, 32 * 1024, 'down');
    replayOutputs(stored(2), 0, 1, [w1]);
    const got = collect(s1);
    expect(got.flat().sort((a, b) => a - b)).toEqual(all(2).map((r) => r + 1000).sort((a, b) => a - b));
    // same parallelism and shape: raw batch back into subpartition 0 of subtask 1
    const s2 = [new ResultSubpartition(() => {})];
    replayOutputs(stored(2), 1, 2, [new RecordWriter(s2, 'HASH', keySelector, 128, 1, undefined, undefined, 32 * 1024, 'down')]);
    expect(collect(s2)).toEqual([[1100, 1101, 1102, 1103, 1104, 1105, 1106, 1107, 1108, 1109]]);
  });
});

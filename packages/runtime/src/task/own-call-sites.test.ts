import { describe, expect, it } from 'vitest';
import type { Output, StreamOperator } from '@weir/api/src/internal';
import { checkThenForwardTo, forwardTo, keyedStep, ownKeySelector, plainStep } from './own-call-sites';

/** An operator that records what it is handed and passes it on doubled. */
function doubling(seen: unknown[]): StreamOperator {
  return { processElement: (value: unknown, out: Output) => void (seen.push(value), out.collect((value as number) * 2)) } as unknown as StreamOperator;
}

describe('per-task call sites', () => {
  it('forward records to the next operator and its downstream; a refused record goes no further', () => {
    const seen: unknown[] = [];
    const out: unknown[] = [];
    const downstream: Output = { collect: (v) => void out.push(v) };
    forwardTo(doubling(seen), downstream)(3);
    const checked = checkThenForwardTo((v) => { if (v === 'bad') throw new Error('refused'); }, doubling(seen), downstream);
    checked(4);
    expect(() => checked('bad')).toThrow('refused');
    expect(seen).toEqual([3, 4]);
    expect(out).toEqual([6, 8]);
  });

  it('each is a function of its own, so V8 keeps separate call-site feedback per task', () => {
    const a = ownKeySelector((v) => v);
    const b = ownKeySelector((v) => v);
    expect(a).not.toBe(b);
    expect(a.toString()).toBe(b.toString());
    expect(ownKeySelector((v) => (v as { k: number }).k)({ k: 7 })).toBe(7);
  });

  it("set the key with the producer's key group only when it was computed for this max parallelism", () => {
    const keys: [unknown, number | undefined][] = [];
    const records: unknown[] = [];
    const step = keyedStep((r) => (r as { k: string }).k, (key, group) => void keys.push([key, group]), { collect: (r) => void records.push(r) }, 128);
    step({ k: 'a' }, { maxParallelism: 128, groups: [5, 9] }, 1);
    step({ k: 'b' }, { maxParallelism: 256, groups: [5, 9] }, 1);
    step({ k: 'c' }, undefined, 0);
    expect(keys).toEqual([['a', 9], ['b', undefined], ['c', undefined]]);
    expect(records).toEqual([{ k: 'a' }, { k: 'b' }, { k: 'c' }]);
    const plain: unknown[] = [];
    plainStep({ collect: (r) => void plain.push(r) })(1, undefined, 0);
    expect(plain).toEqual([1]);
  });
});

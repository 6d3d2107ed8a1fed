import { describe, expect, it } from 'vitest';
import { ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor, ValueStateDescriptor, type ListState, type MapState, type ReducingState, type ValueState } from '@weir/api';
import { ContractViolation, JobError, keyGroupFor, keyGroupRangeFor, keyToString, RecordSerializer, StateError, TypeRegistry } from '@weir/core';
import { HeapKeyedStateBackend } from './keyed-backend';

const MAX = 128;
const count = new ValueStateDescriptor<number>('count', 0);
const seen = new ListStateDescriptor<string>('seen');
const attrs = new MapStateDescriptor<string, number>('attrs');
const total = new ReducingStateDescriptor<number>('total', (a, b) => a + b);

function states(backend: HeapKeyedStateBackend, ns = 'op') {
  return {
    count: backend.getState(count, ns) as ValueState<number>,
    seen: backend.getState(seen, ns) as ListState<string>,
    attrs: backend.getState(attrs, ns) as MapState<string, number>,
    total: backend.getState(total, ns) as ReducingState<number>,
  };
}

describe('HeapKeyedStateBackend', () => {
  it('scopes value, list, map and reducing state to the current key', () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    const s = states(b);
    b.setCurrentKey('alice');
    s.count.update(3);
    s.seen.add('x');
    s.seen.add('y');
    s.attrs.put('age', 30);
    s.total.add(5);
    s.total.add(7);
    b.setCurrentKey('bob');
    expect(b.currentKey()).toBe('bob');
    expect(s.count.value()).toBe(0); // default value
    expect(s.seen.get()).toEqual([]);
    expect(s.attrs.isEmpty()).toBe(true);
    expect(s.total.get()).toBeUndefined();
    s.count.update(1);
    s.attrs.put('age', 40);
    b.setCurrentKey('alice');
    expect(s.count.value()).toBe(3);
    expect(s.seen.get()).toEqual(['x', 'y']);
    expect(s.attrs.get('age')).toBe(30);
    expect(s.attrs.contains('age')).toBe(true);
    expect(s.attrs.entries()).toEqual([['age', 30]]);
    expect(s.total.get()).toBe(12);
    s.count.clear();
    expect(s.count.value()).toBe(0);
    b.setCurrentKey('bob');
    expect(s.count.value()).toBe(1);
    expect(s.attrs.get('age')).toBe(40);
  });

  it('keeps numeric and string keys apart, and namespaces apart', () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    const a = states(b, 'a');
    const other = states(b, 'b');
    b.setCurrentKey(1);
    a.count.update(10);
    b.setCurrentKey('1');
    expect(a.count.value()).toBe(0);
    b.setCurrentKey(1);
    expect(other.count.value()).toBe(0);
    expect(a.count.value()).toBe(10);
  });

  it('a list returned by get() is a copy; map remove of the last entry empties it', () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    const s = states(b);
    b.setCurrentKey('k');
    s.seen.update(['a']);
    s.seen.get().push('mutated');
    expect(s.seen.get()).toEqual(['a']);
    s.attrs.put('x', 1);
    s.attrs.remove('x');
    expect(s.attrs.isEmpty()).toBe(true);
    expect(b.keyCount()).toBe(1); // only the list entry is left
  });

  it('rejects the same state name with another kind', () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    b.getState(count, 'op');
    expect(() => b.getState(new ListStateDescriptor<number>('count'), 'op')).toThrow(StateError);
    expect(() => b.getState(new ListStateDescriptor<number>('count'), 'op')).toThrow('state "op/count" is a value state, not a list state');
  });

  it('a snapshot is a copy: later updates do not change it', () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    const s = states(b);
    b.setCurrentKey('k');
    s.count.update(1);
    s.seen.add('a');
    s.attrs.put('m', 1);
    s.total.add(1);
    const snap = b.snapshot();
    const before = JSON.stringify(snap);
    s.count.update(2);
    s.seen.add('b');
    s.attrs.put('m', 2);
    s.attrs.put('n', 3);
    s.total.add(1);
    b.setCurrentKey('other');
    s.count.update(99);
    expect(JSON.stringify(snap)).toBe(before);

    const restored = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    restored.restore([snap]);
    const r = states(restored);
    restored.setCurrentKey('k');
    expect([r.count.value(), r.seen.get(), r.attrs.entries(), r.total.get()]).toEqual([1, ['a'], [['m', 1]], 1]);
    restored.setCurrentKey('other');
    expect(r.count.value()).toBe(0);
  });

  it('restoring into two backends with half the key groups each gives every key to exactly one, with its value', () => {
    const whole = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    const s = states(whole);
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    keys.forEach((k, i) => {
      whole.setCurrentKey(k);
      s.count.update(i + 1);
      s.seen.add(k);
      s.attrs.put('i', i);
      s.total.add(i);
    });
    const snap = whole.snapshot();
    const halves = [0, 1].map((subtask) => {
      const b = new HeapKeyedStateBackend(keyGroupRangeFor(subtask, 2, MAX), MAX);
      b.restore([snap]);
      return b;
    });
    expect(halves.map((h) => h.range)).toEqual([{ start: 0, end: 63 }, { start: 64, end: 127 }]);
    let inFirst = 0;
    keys.forEach((k, i) => {
      const owner = keyGroupFor(keyToString(k), MAX) <= 63 ? 0 : 1;
      if (owner === 0) inFirst++;
      halves.forEach((h, subtask) => {
        const hs = states(h);
        h.setCurrentKey(k);
        if (subtask === owner) {
          expect([hs.count.value(), hs.seen.get(), hs.attrs.get('i'), hs.total.get()]).toEqual([i + 1, [k], i, i]);
        } else {
          expect([hs.count.value(), hs.seen.get(), hs.attrs.get('i'), hs.total.get()]).toEqual([0, [], undefined, undefined]);
        }
      });
    });
    // both halves hold some keys, and between them every key's four states exactly once
    expect(inFirst).toBeGreaterThan(50);
    expect(inFirst).toBeLessThan(150);
    expect(halves[0].keyCount()).toBe(inFirst * 4);
    expect(halves[1].keyCount()).toBe((keys.length - inFirst) * 4);

    // and scaling back in from both halves' snapshots gives back the whole
    const merged = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    merged.restore(halves.map((h) => h.snapshot()));
    expect(merged.keyCount()).toBe(keys.length * 4);
    const m = states(merged);
    merged.setCurrentKey('key-17');
    expect(m.count.value()).toBe(18);
  });

  it('state restored from a snapshot does not write through to that snapshot', () => {
    const whole = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    const s = states(whole);
    whole.setCurrentKey('k');
    s.seen.add('a');
    s.attrs.put('x', 1);
    const snap = whole.snapshot();
    const before = JSON.stringify(snap);
    const restored = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    restored.restore([snap]);
    const r = states(restored);
    restored.setCurrentKey('k');
    r.seen.add('b');
    r.attrs.put('y', 2);
    expect(JSON.stringify(snap)).toBe(before);
  });

  it('registered class values, -0, Sets and BigInt keys come back from a snapshot written to bytes', () => {
    class Tally {
      constructor(readonly n: number) {}
      plus(k: number): Tally {
        return new Tally(this.n + k);
      }
    }
    const types = new TypeRegistry();
    types.register(Tally);
    const serializer = new RecordSerializer(types);
    const tally = new ValueStateDescriptor<Tally>('tally');
    const tags = new ListStateDescriptor<Set<string>>('tags');
    const b = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX, types);
    b.setCurrentKey(10n ** 20n);
    (b.getState(tally, 'op') as ValueState<Tally>).update(new Tally(-0).plus(2));
    (b.getState(tags, 'op') as ListState<Set<string>>).add(new Set(['x']));
    b.setCurrentKey({ b: 1, a: 2 });
    (b.getState(tally, 'op') as ValueState<Tally>).update(new Tally(-0));
    const bytes = serializer.encodeState(b.snapshot());

    const restored = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX, types);
    restored.restore([serializer.decodeState(bytes)]);
    restored.setCurrentKey(10n ** 20n);
    const value = (restored.getState(tally, 'op') as ValueState<Tally>).value() as Tally;
    expect(value).toBeInstanceOf(Tally);
    expect(value.plus(1).n).toBe(3);
    expect((restored.getState(tags, 'op') as ListState<Set<string>>).get()).toEqual([new Set(['x'])]);
    restored.setCurrentKey({ a: 2, b: 1 }); // the same key, fields in another order
    expect(Object.is(((restored.getState(tally, 'op') as ValueState<Tally>).value() as Tally).n, -0)).toBe(true);
  });

  it('a state write the contract refuses fails at once, naming the state, the operator and the field', () => {
    const b = new HeapKeyedStateBackend({ start: 0, end: MAX - 1 }, MAX);
    const s = states(b);
    const anyValue = b.getState(new ValueStateDescriptor<unknown>('any'), 'sum') as ValueState<unknown>;
    b.setCurrentKey('k');
    expect(() => anyValue.update({ cb: () => 1 })).toThrow(JobError);
    expect(() => anyValue.update({ cb: () => 1 })).toThrow(
      'state "any" of operator uid sum cannot hold the value: value.cb is a function (cb); records and state hold data only: drop the field and keep the function in the operator',
    );
    expect(() => (b.getState(new ListStateDescriptor<unknown>('l'), 'sum') as ListState<unknown>).add(Symbol('s'))).toThrow('state "l" of operator uid sum cannot hold the value: element is a symbol');
    expect(() => s.attrs.put(undefined as unknown as string, 1)).toThrow('map state "attrs" of operator uid op: key is undefined');
    expect(() => b.setCurrentKey(null)).toThrow(ContractViolation);
    expect(b.currentKey()).toBe('k'); // a refused key leaves the current key as it was
  });
});

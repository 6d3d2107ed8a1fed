import { describe, expect, it } from 'vitest';
import { hashString, keyGroupFor, keyGroupRangeFor, operatorIndexForKeyGroup, rangesOverlap } from './key-groups';
import { keyToString } from './key-text';

describe('key groups', () => {
  const cases: [number, number][] = [
    [1, 128], [2, 128], [3, 128], [5, 128], [7, 10], [128, 128], [4, 4], [3, 7], [10, 1000],
  ];

  it.each(cases)('parallelism %i over max parallelism %i: ranges cover every key group exactly once, in order', (p, max) => {
    const owner: number[] = new Array(max).fill(-1);
    let next = 0;
    for (let s = 0; s < p; s++) {
      const r = keyGroupRangeFor(s, p, max);
      expect(r.start).toBe(next); // contiguous: each range starts where the last ended
      for (let kg = r.start; kg <= r.end; kg++) {
        expect(owner[kg]).toBe(-1);
        owner[kg] = s;
      }
      next = r.end + 1;
      // sizes differ by at most one
      expect(r.end - r.start + 1).toBeGreaterThanOrEqual(Math.floor(max / p));
      expect(r.end - r.start + 1).toBeLessThanOrEqual(Math.ceil(max / p));
    }
    expect(next).toBe(max);
    expect(owner.every((o) => o >= 0)).toBe(true);
    // the router agrees with the ranges: a record goes to the subtask that owns its group
    for (let kg = 0; kg < max; kg++) expect(operatorIndexForKeyGroup(kg, p, max)).toBe(owner[kg]);
  });

  it('gives the exact Flink ranges for 3 subtasks over 128 groups', () => {
    expect([0, 1, 2].map((s) => keyGroupRangeFor(s, 3, 128))).toEqual([
      { start: 0, end: 42 },
      { start: 43, end: 85 },
      { start: 86, end: 127 },
    ]);
  });

  it('ranges of different subtasks do not overlap', () => {
    expect(rangesOverlap(keyGroupRangeFor(0, 2, 128), keyGroupRangeFor(1, 2, 128))).toBe(false);
    expect(rangesOverlap({ start: 0, end: 63 }, { start: 63, end: 100 })).toBe(true);
    expect(rangesOverlap({ start: 0, end: 127 }, keyGroupRangeFor(1, 4, 128))).toBe(true);
  });

  it('hashes keys stably and spreads them over the groups', () => {
    expect(keyToString('a')).toBe('s:a');
    expect(keyToString(1)).toBe('j:1');
    expect(keyToString(['a', 1])).toBe('j:["a",1]');
    expect(keyToString('1')).not.toBe(keyToString(1));
    expect(hashString('s:hello')).toBe(hashString('s:hello'));
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[keyGroupFor(keyToString(`key-${i}`), 8)]++;
    for (const c of counts) {
      expect(c).toBeGreaterThan(800);
      expect(c).toBeLessThan(1200);
    }
    for (let i = 0; i < 100; i++) {
      const kg = keyGroupFor(keyToString(i), 128);
      expect(Number.isInteger(kg) && kg >= 0 && kg < 128).toBe(true);
    }
  });

  // Golden values: the key -> key group mapping is part of the checkpoint format (state is
  // stored by key group, and a restore routes keys by it). A change here moves keys to
  // other subtasks after an upgrade: it must be a deliberate, migrated format change.
  it('maps fixed keys to fixed key groups, for 128 and 32768 key groups', () => {
    const golden: [unknown, string, number, number, number][] = [
      ['a', 's:a', 1653849569, 97, 15841],
      ['user-42', 's:user-42', 2597981174, 118, 3062],
      ['', 's:', 3928860062, 30, 9630],
      ['ü', 's:ü', 2134937145, 57, 3641],
      ['😀', 's:😀', 1857789983, 31, 8223],
      [0, 'j:0', 1647760753, 113, 21873],
      [-0, 'j:0', 1647760753, 113, 21873],
      [1, 'j:1', 2524044942, 14, 24206],
      [-1, 'j:-1', 1308221905, 81, 25041],
      [1.5, 'j:1.5', 1659915105, 97, 19297],
      [42, 'j:42', 1270631467, 43, 19499],
      [1e21, 'j:1e+21', 279578790, 38, 2214],
      [true, 'j:true', 2994225446, 38, 16678],
      [5n, 'n:5', 1964845481, 41, 10665],
      [['a', 1], 'j:["a",1]', 2806222402, 66, 3650],
      [{ b: 'x', a: 1 }, 'j:{"a":1,"b":"x"}', 2833034058, 74, 11082],
      [new Date(0), 'd:0', 3552378773, 21, 32661],
      [NaN, 'j:NaN', 3451878664, 8, 32008],
    ];
    for (const [key, text, hash, group128, group32768] of golden) {
      expect(keyToString(key)).toBe(text);
      expect(hashString(text)).toBe(hash);
      expect(keyGroupFor(text, 128)).toBe(group128);
      expect(keyGroupFor(text, 32768)).toBe(group32768);
    }
  });
});

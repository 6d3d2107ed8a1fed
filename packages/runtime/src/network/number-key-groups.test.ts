import { describe, expect, it } from 'vitest';
import { keyGroupFor, keyToString } from '@weir/core';
import { NumberKeyGroups } from './number-key-groups';

describe('NumberKeyGroups', () => {
  it('gives every integer key the group its key text hashes to, across the table growing', () => {
    for (const maxParallelism of [1, 7, 128, 32768]) {
      const cache = new NumberKeyGroups(maxParallelism);
      // Out of order, so that the table grows past keys already cached.
      const keys = [5000, 0, 1, 1023, 1024, 1025, 70_000, 3, (1 << 20) - 1, 42, 5000, 0];
      for (const key of keys) {
        expect(NumberKeyGroups.fits(key, maxParallelism)).toBe(true);
        expect(cache.of(key)).toBe(keyGroupFor(keyToString(key), maxParallelism));
      }
      expect(cache.of(-0)).toBe(keyGroupFor(keyToString(-0), maxParallelism));
    }
  });

  it('leaves other keys to the hash of their text', () => {
    for (const key of [-1, 0.5, 1 << 20, Number.NaN, Number.POSITIVE_INFINITY, '7', 7n, true]) expect(NumberKeyGroups.fits(key, 128)).toBe(false);
    expect(NumberKeyGroups.fits(7, 0x10000)).toBe(false);
  });
});

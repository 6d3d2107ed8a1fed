import { keyGroupFor, keyToString } from '@weir/core';

/** Keys above this are hashed every time: the table stays at most 2 MiB. */
const MAX_CACHED_KEY = 1 << 20;
const UNKNOWN = -1;

/**
 * The key group of small non-negative integer keys, remembered: a keyed job that keys by
 * such numbers hashes each key once, not once per record (the key text and its hash were
 * a tenth of the producer's time). The group is the one keyGroupFor gives the key's text,
 * so a key lands where it always did. The table grows by doubling up to the largest key seen.
 */
export class NumberKeyGroups {
  private table: Int16Array = new Int16Array(0);

  constructor(private readonly maxParallelism: number) {}

  /** Whether `key` can be looked up here (and this max parallelism fits the table); -0 is 0's key. */
  static fits(key: unknown, maxParallelism: number): key is number {
    return typeof key === 'number' && (key | 0) === key && key >= 0 && key < MAX_CACHED_KEY && maxParallelism <= 0x8000;
  }

  of(key: number): number {
    let table = this.table;
    if (key >= table.length) table = this.grow(key);
    let group = table[key];
    if (group === UNKNOWN) table[key] = group = keyGroupFor(keyToString(key), this.maxParallelism);
    return group;
  }

  private grow(key: number): Int16Array {
    let size = Math.max(1024, this.table.length);
    while (size <= key) size *= 2;
    const table = new Int16Array(size).fill(UNKNOWN);
    table.set(this.table);
    this.table = table;
    return table;
  }
}

/**
 * Keyed state is split into key groups (hash of the key modulo max parallelism), the unit
 * of rescaling: a subtask owns a contiguous range of key groups, as in Flink.
 */
export interface KeyGroupRange { start: number; end: number } // end inclusive

/**
 * 32-bit FNV-1a over the UTF-16 code units of the key's canonical text (key-text.ts), each
 * unit xored in whole, then murmur3's fmix32 finaliser: cheap, stable and well spread.
 * Part of the on-disk format: the golden test in key-groups.test.ts pins it.
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** As Flink: keyGroup = hash mod maxParallelism. */
export function keyGroupFor(keyString: string, maxParallelism: number): number {
  return hashString(keyString) % maxParallelism;
}

/** As Flink's KeyGroupRangeAssignment: keyGroup * parallelism / maxParallelism, rounded down. */
export function operatorIndexForKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

export function keyGroupRangeFor(subtask: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  const start = Math.ceil((subtask * maxParallelism) / parallelism);
  const end = Math.ceil(((subtask + 1) * maxParallelism) / parallelism) - 1;
  return { start, end };
}

export function rangesOverlap(a: KeyGroupRange, b: KeyGroupRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

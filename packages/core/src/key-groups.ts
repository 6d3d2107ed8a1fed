/**
 * Keyed state is split into key groups (hash of the key modulo max parallelism), the unit
 * of rescaling: a subtask owns a contiguous range of key groups, as in Flink.
 */
export interface KeyGroupRange { start: number; end: number } // end inclusive

/** Stable text form of a key: the same key gives the same string in every process. */
export function keyToString(key: unknown): string {
  if (typeof key === 'string') return `s:${key}`;
  // Same text as JSON.stringify for finite numbers, without its cost on the record path.
  if (typeof key === 'number' && Number.isFinite(key)) return `j:${key}`;
  return `j:${JSON.stringify(key)}`;
}

/** murmur3 32-bit finaliser over FNV-1a: cheap, stable and well spread. */
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

export function keyGroupFor(keyString: string, maxParallelism: number): number {
  return hashString(keyString) % maxParallelism;
}

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

/**
 * The keyed state backend seam: what a task asks of keyed state, whichever store holds
 * it. Both backends write and read the same canonical snapshot (key group -> key ->
 * value), so a checkpoint or savepoint taken on one restores on the other.
 */
import type { KeyGroupRange } from '@weir/core';
import type { StateDescriptor } from '@weir/api';
import type { ChangeSet } from './change-set';

/** Numbers index the table as they are; every other key by its stable text form. */
export type TableKey = number | string;

/**
 * Canonical keyed state: per state (`namespace/name`), per key group, the entries. Values
 * are as a job sees them, except map state: `[mapKeyText, [mapKey, value]][]`. A delta
 * holds only the keys changed since the previous checkpoint and the keys removed.
 */
export interface KeyedSnapshot {
  range: KeyGroupRange;
  delta?: boolean;
  states: Record<string, { kind: string; groups: [number, [TableKey, unknown][]][]; removed?: [number, TableKey[]][] }>;
}

/** The synchronous part of a snapshot: fixed at barrier time, read afterwards. */
export interface KeyedCapture {
  readonly mode: 'full' | 'delta';
  /** The keys changed since the previous capture (incremental mode only). */
  readonly changes?: ChangeSet;
  /**
   * The canonical snapshot in parts of whole key groups, each closed once it holds
   * `maxEntries` entries: state larger than memory is written part by part. Gives the
   * event loop a turn every few milliseconds while it reads.
   */
  chunks(maxEntries?: number): AsyncGenerator<KeyedSnapshot>;
  /** All parts as one snapshot. */
  read(): Promise<KeyedSnapshot>;
}

/** Gathers key groups into parts of a snapshot; a full part replaces only the groups it names. */
export class ChunkBuilder {
  private part: KeyedSnapshot;
  private entries = 0;
  private emitted = 0;

  constructor(
    private readonly range: KeyGroupRange,
    private readonly mode: 'full' | 'delta',
    private readonly maxEntries: number,
  ) {
    this.part = this.fresh();
  }

  private fresh(): KeyedSnapshot {
    return this.mode === 'delta' ? { range: this.range, delta: true, states: {} } : { range: this.range, states: {} };
  }

  /** Adds one key group's entries (and removed keys, for a delta); returns a part that is full. */
  add(name: string, kind: string, kg: number, entries: [TableKey, unknown][], removed: TableKey[]): KeyedSnapshot | undefined {
    let state = this.part.states[name];
    if (!state) this.part.states[name] = state = this.mode === 'delta' ? { kind, groups: [], removed: [] } : { kind, groups: [] };
    if (entries.length) state.groups.push([kg, entries]);
    if (removed.length) state.removed?.push([kg, removed]);
    this.entries += entries.length;
    if (this.entries < this.maxEntries) return undefined;
    const full = this.part;
    this.part = this.fresh();
    this.entries = 0;
    this.emitted++;
    return full;
  }

  /** The last part: always one, so that an empty state still yields a snapshot. */
  *rest(): Generator<KeyedSnapshot> {
    if (this.emitted === 0 || Object.keys(this.part.states).length > 0) yield this.part;
  }
}

export async function mergeChunks(range: KeyGroupRange, mode: 'full' | 'delta', parts: AsyncIterable<KeyedSnapshot>): Promise<KeyedSnapshot> {
  const out: KeyedSnapshot = mode === 'delta' ? { range, delta: true, states: {} } : { range, states: {} };
  for await (const part of parts) {
    for (const [name, s] of Object.entries(part.states)) {
      const into = (out.states[name] ??= mode === 'delta' ? { kind: s.kind, groups: [], removed: [] } : { kind: s.kind, groups: [] });
      into.groups.push(...s.groups);
      if (s.removed) into.removed?.push(...s.removed);
    }
  }
  return out;
}

export interface KeyedStateBackend {
  readonly range: KeyGroupRange;
  /** keyGroup: the key's group as its producer computed it (hash edges), so a number key need not be hashed again. */
  setCurrentKey(key: unknown, keyGroup?: number): void;
  currentKey(): unknown;
  getState<S>(descriptor: StateDescriptor<S>, namespace: string): S;
  /** Must stay short: records wait while it runs. */
  capture(mode: 'full' | 'delta'): KeyedCapture;
  /** True when a delta cannot be taken (nothing tracked since the last full capture). */
  needsFullCapture(): boolean;
  /** Changes of a capture whose checkpoint never completed belong to the next delta. */
  requeue(changes: ChangeSet): void;
  /** Applies snapshots in order: a full one replaces its key groups, a delta patches them. */
  restore(snapshots: KeyedSnapshot[]): Promise<void>;
  keyCount(): number;
  dispose(): Promise<void>;
}

export type StateBackendType = 'hashmap' | 'lmdb';

/** Map state's live form <-> its canonical entries. */
export function mapToEntries(value: Map<string, [unknown, unknown]>): [string, [unknown, unknown]][] {
  return [...value.entries()];
}
export function entriesToMap(entries: [string, [unknown, unknown]][]): Map<string, [unknown, unknown]> {
  return new Map(entries);
}

export { HeapKeyedStateBackend } from './heap-backend';

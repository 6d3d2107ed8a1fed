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
  /** Builds the canonical snapshot; yields to the event loop while it reads. */
  read(): Promise<KeyedSnapshot>;
}

export interface KeyedStateBackend {
  readonly range: KeyGroupRange;
  setCurrentKey(key: unknown): void;
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

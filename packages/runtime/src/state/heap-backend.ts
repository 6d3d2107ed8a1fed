import { performance } from 'node:perf_hooks';
import { NO_TYPES, RecordSerializer, StateError, type KeyGroupRange, type TypeRegistry } from '@weir/core';
import { CurrentKey } from './current-key';
import type { StateDescriptor } from '@weir/api';
import { ChangeSet } from './change-set';
import { ChunkBuilder, entriesToMap, mapToEntries, mergeChunks, type KeyedCapture, type KeyedSnapshot, type KeyedStateBackend, type TableKey } from './keyed-backend';
import { HeapTable, PAGE, type Group } from './heap-table';
import { stateFacade, type StateCell } from './state-kinds';
import { yieldToEventLoop } from '../signal';
import { YIELD_INTERVAL_MS } from '../task/record-feeder';

/** A key that had no value when the capture was taken. */
const ABSENT = Symbol('absent');

/** A capture still being read: the value at capture time of every key changed since (state -> key group -> key). */
interface OpenCapture {
  before: Map<string, Map<number, Map<TableKey, unknown>>>;
}

/**
 * Reading a capture gives the event loop a turn after this long, so that records keep
 * flowing. As long as a slice of records (YIELD_INTERVAL_MS): with 3 ms the reader had a
 * quarter of the thread, and a 1M-key checkpoint took 388 ms (median) against 231 ms with
 * 10 ms, while records ran at 2.78 against 2.90-3.01 M/s (docs/benchmarks.md).
 */
const SLICE_MS = YIELD_INTERVAL_MS;
/**
 * A full capture reads the dense region once per run of key groups holding about this
 * many of its keys: a snapshot lists each key group once, so the region's entries are
 * held until their groups are written, and reading them all at once held 5M entries per
 * task at 10M keys (3.7 GB peak RSS against 2.3 GB with maps).
 */
const DENSE_ENTRIES_PER_READ = 500_000;

/** Runs of key groups [from, to] that each hold about `perRead` of the table's `denseKeys`. */
export function denseReads(range: KeyGroupRange, denseKeys: number, perRead: number): [number, number][] {
  const groups = range.end - range.start + 1;
  const reads = Math.min(groups, Math.max(1, Math.ceil(denseKeys / perRead)));
  const per = Math.ceil(groups / reads);
  const out: [number, number][] = [];
  for (let from = range.start; from <= range.end; from += per) out.push([from, Math.min(range.end, from + per - 1)]);
  return out;
}

/** A key group of at most this many entries is read in one go. */
const SMALL_GROUP = 4096;

/**
 * Heap keyed state with copy-on-write per entry (as Flink's CopyOnWriteStateMap): a
 * capture copies nothing; while it is being read, the first change to a key keeps that
 * key's value at capture time aside, so the capture reads the live table for untouched
 * keys and the kept values for the rest. The synchronous phase is O(number of states),
 * and the work after it is O(keys changed meanwhile), not O(state). The state kinds never
 * change a value in place (see state-kinds.ts); an object value a job reads while a
 * capture is open is kept aside and the job gets a copy (it may change what it read).
 * Each state's table (heap-table.ts) keeps its layout while a capture is open, so the
 * reader walks the same dense pages and key-group maps the capture was taken on.
 */
export class HeapKeyedStateBackend implements KeyedStateBackend {
  private readonly tables = new Map<string, HeapTable>();
  private changes?: ChangeSet;
  private sinceFull = false;
  private readonly open = new Set<OpenCapture>();
  private readonly copier: RecordSerializer;

  private readonly current: CurrentKey;
  private readonly denseEntriesPerRead: number;

  constructor(
    readonly range: KeyGroupRange,
    private readonly maxParallelism: number,
    private readonly types: TypeRegistry = NO_TYPES,
    options: { trackChanges?: boolean; denseEntriesPerRead?: number } = {},
  ) {
    this.current = new CurrentKey(maxParallelism, types);
    this.denseEntriesPerRead = options.denseEntriesPerRead ?? DENSE_ENTRIES_PER_READ;
    if (options.trackChanges) this.changes = new ChangeSet();
    this.copier = new RecordSerializer(types);
  }

  /** Throws a ContractViolation for a key that cannot be a key (null, undefined, a function...). */
  setCurrentKey(key: unknown, keyGroup?: number): void {
    this.current.set(key, keyGroup);
  }

  currentKey(): unknown {
    return this.current.value;
  }

  private table(name: string, kind: string): HeapTable {
    let table = this.tables.get(name);
    if (!table) {
      table = new HeapTable(kind, (this.range.end - this.range.start + 1) / this.maxParallelism);
      this.tables.set(name, table);
    } else if (table.kind !== kind) {
      throw new StateError(`state "${name}" is a ${table.kind} state, not a ${kind} state`);
    }
    return table;
  }

  /** Before the current key of `name` changes: open captures keep its value at capture time. Returns whether any had not yet. */
  private keep(name: string, table: HeapTable): boolean {
    let kept = false;
    for (const capture of this.open) {
      let groups = capture.before.get(name);
      if (!groups) capture.before.set(name, (groups = new Map()));
      let keys = groups.get(this.current.group);
      if (!keys) groups.set(this.current.group, (keys = new Map()));
      if (keys.has(this.current.tableKey)) continue;
      const value = table.get(this.current.group, this.current.tableKey);
      keys.set(this.current.tableKey, value === undefined ? ABSENT : value);
      kept = true;
    }
    return kept;
  }

  private cell(name: string, table: HeapTable): StateCell {
    return {
      read: () => {
        const value = table.get(this.current.group, this.current.tableKey);
        if (this.open.size === 0 || value === null || typeof value !== 'object') return value;
        // The capture keeps the value it saw; the job gets its own copy to change.
        if (!this.keep(name, table)) return value;
        // Through the serializer: registered classes keep their prototype, as after a restore.
        const copy = fromCanonical(table.kind, this.copier.decodeState(this.copier.encodeState(toCanonical(table.kind, value))));
        table.set(this.current.group, this.current.tableKey, copy, false);
        return copy;
      },
      write: (value) => {
        if (this.open.size) this.keep(name, table);
        // The table's layout stays as it is while a capture is being read.
        table.set(this.current.group, this.current.tableKey, value, this.open.size === 0);
        this.changes?.mark(name, this.current.group, this.current.tableKey);
      },
      remove: () => {
        if (table.get(this.current.group, this.current.tableKey) === undefined) return;
        if (this.open.size) this.keep(name, table);
        table.delete(this.current.group, this.current.tableKey);
        this.changes?.mark(name, this.current.group, this.current.tableKey);
      },
    };
  }

  getState<S>(descriptor: StateDescriptor<S>, namespace: string): S {
    const name = `${namespace}/${descriptor.name}`;
    return stateFacade(descriptor, this.cell(name, this.table(name, descriptor.kind)), { types: this.types, stateName: descriptor.name, namespace });
  }

  needsFullCapture(): boolean {
    return !this.changes || this.changes.overflowed || !this.sinceFull;
  }

  capture(mode: 'full' | 'delta'): KeyedCapture {
    const states = [...this.tables].map(([name, table]) => ({ name, table, pageCount: table.pages.length }));
    const changes = this.changes;
    if (this.changes) this.changes = new ChangeSet();
    if (mode === 'full') this.sinceFull = true;
    const range = this.range;
    const perRead = this.denseEntriesPerRead;
    // Every state's map of kept values exists from the start: the reader looks each up once,
    // and a state first changed while the capture is half read must still be seen there.
    const capture: OpenCapture = { before: new Map(states.map(({ name }) => [name, new Map()])) };
    this.open.add(capture);
    const open = this.open;
    async function* chunks(maxEntries = Infinity): AsyncGenerator<KeyedSnapshot> {
      try {
        const parts = new ChunkBuilder(range, mode, maxEntries);
        const slice = new ReadSlice();
        for (const { name, table, pageCount } of states) {
          const kind = table.kind;
          const kept = capture.before.get(name) as Kept;
          if (mode === 'full') {
            for (const [from, to] of denseReads(range, table.denseSize, perRead)) {
              const dense = await denseAtCapture(table, pageCount, kept, slice, from, to);
              for (let kg = from; kg <= to; kg++) {
                const entries = dense[kg] ?? [];
                const group = table.groups[kg];
                if (group !== undefined) await mapGroupAtCapture(table, kg, group, kept, entries, slice);
                if (entries.length === 0) continue;
                const part = parts.add(name, kind, kg, entries, []);
                if (part) yield part;
                if (slice.due()) await slice.pause();
              }
            }
          } else {
            for (const [kg, keys] of changes?.states.get(name) ?? []) {
              const entries: [TableKey, unknown][] = [];
              const removed: TableKey[] = [];
              for (const k of keys) {
                const v = atCapture(table, kept, kg, k);
                if (v === undefined) removed.push(k);
                else entries.push([k, toCanonical(kind, v)]);
              }
              const part = parts.add(name, kind, kg, entries, removed);
              if (part) yield part;
              if (slice.due()) await slice.pause();
            }
          }
        }
        yield* parts.rest();
      } finally {
        open.delete(capture);
      }
    }
    return { mode, changes, chunks, read: () => mergeChunks(range, mode, chunks()) };
  }

  requeue(changes: ChangeSet): void {
    this.changes?.addAll(changes);
  }

  async restore(snapshots: KeyedSnapshot[]): Promise<void> {
    for (const snap of snapshots) {
      for (const [name, { kind, groups, removed }] of Object.entries(snap.states)) {
        const table = this.table(name, kind);
        for (const [kg, entries] of groups) {
          if (kg < this.range.start || kg > this.range.end) continue;
          // A full snapshot replaces its key groups; a delta patches them.
          if (!snap.delta) table.clearGroup(kg);
          for (const [k, v] of entries) table.set(kg, k, fromCanonical(kind, v), this.open.size === 0);
        }
        for (const [kg, keys] of removed ?? []) {
          if (kg < this.range.start || kg > this.range.end) continue;
          for (const k of keys) table.delete(kg, k);
        }
      }
      await yieldToEventLoop();
    }
  }

  keyCount(): number {
    let n = 0;
    for (const table of this.tables.values()) n += table.size;
    return n;
  }

  async dispose(): Promise<void> {
    this.tables.clear();
    this.open.clear();
  }
}

/** Key group -> key -> value at capture time (ABSENT if it had none), for the keys changed since. */
type Kept = Map<number, Map<TableKey, unknown>>;

/** Gives the event loop a turn once a slice of reading has gone by, so that records keep flowing. */
class ReadSlice {
  private turn = performance.now();

  due(): boolean {
    return performance.now() - this.turn >= SLICE_MS;
  }

  async pause(): Promise<void> {
    await yieldToEventLoop();
    this.turn = performance.now();
  }
}

/** The value `k` had when the capture was taken: kept aside if it changed since, else the live one. */
function atCapture(table: HeapTable, kept: Kept, kg: number, k: TableKey): unknown {
  const before = kept.get(kg);
  if (before?.has(k)) {
    const v = before.get(k);
    return v === ABSENT ? undefined : v;
  }
  return table.get(kg, k);
}

/**
 * The dense region's entries at capture time, by key group, read a page at a time across
 * turns of the event loop. The region does not grow while a capture is open; keys
 * changed meanwhile (and keys written first on a page added since) are in `kept`,
 * which fills during the turns: its key groups are looked up again after each.
 */
async function denseAtCapture(table: HeapTable, pageCount: number, kept: Kept, slice: ReadSlice, from: number, to: number): Promise<([TableKey, unknown][] | undefined)[]> {
  const byGroup: ([TableKey, unknown][] | undefined)[] = [];
  // Kept values per key group, looked up once a page: keys change only while the event loop has a turn, between pages.
  const keptByGroup: (Map<TableKey, unknown> | undefined)[] = [];
  for (let p = 0; p < pageCount; p++) {
    const page = table.pages[p];
    if (page === undefined) continue;
    keptByGroup.length = 0;
    for (const [kg, keys] of kept) keptByGroup[kg] = keys;
    const base = p * PAGE;
    for (let slot = 0; slot < PAGE; slot++) {
      const kg = page.groups[slot];
      if (kg < from || kg > to) continue; // NO_GROUP (never written) is above every key group
      const k = base + slot;
      const before = keptByGroup[kg];
      const v = before !== undefined && before.has(k) ? before.get(k) : page.values[slot];
      if (v === undefined || v === ABSENT) continue;
      const entries = byGroup[kg] ?? (byGroup[kg] = []);
      entries.push([k, toCanonical(table.kind, v)]);
    }
    if (slice.due()) await slice.pause();
  }
  return byGroup;
}

/** Adds a key group's map entries at capture time to `entries` (its dense keys are read by denseAtCapture). */
async function mapGroupAtCapture(table: HeapTable, kg: number, group: Group, kept: Kept, entries: [TableKey, unknown][], slice: ReadSlice): Promise<void> {
  const kind = table.kind;
  if (group.size <= SMALL_GROUP) {
    // In one go: keys changed since the capture are in `kept`.
    const before = kept.get(kg);
    for (const [k, v] of group) if (!before?.has(k)) entries.push([k, toCanonical(kind, v)]);
    for (const [k, v] of before ?? []) if (v !== ABSENT && !table.isDense(k)) entries.push([k, toCanonical(kind, v)]);
    return;
  }
  // A large group is read across turns of the event loop, while keys change (and move in
  // the map's order): its keys are listed once, now, and each is read at its capture
  // value. Keys removed since the capture are not in the list.
  const removedSince: [TableKey, unknown][] = [];
  for (const [k, v] of kept.get(kg) ?? []) if (v !== ABSENT && !table.isDense(k) && !group.has(k)) removedSince.push([k, v]);
  const keys = Array.from(group.keys());
  // Keys change only while the event loop has a turn: look the kept values up again after each.
  let before = kept.get(kg);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    let v: unknown;
    if (before?.has(k)) {
      v = before.get(k);
      if (v === ABSENT) v = undefined;
    } else {
      v = group.get(k);
    }
    if (v !== undefined) entries.push([k, toCanonical(kind, v)]);
    if ((i & 1023) === 1023 && slice.due()) {
      await slice.pause();
      before = kept.get(kg);
    }
  }
  for (const [k, v] of removedSince) entries.push([k, toCanonical(kind, v)]);
}

export function toCanonical(kind: string, value: unknown): unknown {
  return kind === 'map' ? mapToEntries(value as Map<string, [unknown, unknown]>) : value;
}

export function fromCanonical(kind: string, value: unknown): unknown {
  return kind === 'map' ? entriesToMap(value as [string, [unknown, unknown]][]) : value;
}

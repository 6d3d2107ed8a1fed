import { keyGroupFor, keyToString, NO_TYPES, RecordSerializer, StateError, type KeyGroupRange, type TypeRegistry } from '@weir/core';
import type { StateDescriptor } from '@weir/api';
import { ChangeSet } from './change-set';
import { ChunkBuilder, entriesToMap, mapToEntries, mergeChunks, type KeyedCapture, type KeyedSnapshot, type KeyedStateBackend, type TableKey } from './keyed-backend';
import { stateFacade, type StateCell } from './state-kinds';
import { yieldToEventLoop } from '../signal';

type Group = Map<TableKey, unknown>;

/** One state's table: key group -> key -> value, and the epoch each group map was made in. */
interface Table {
  kind: string;
  groups: Map<number, Group>;
  epochs: Map<number, number>;
  /** Keys of a group copied in this epoch whose value is this epoch's own (written or copied since). */
  owned: Map<number, Set<TableKey>>;
}

/** Entries read per event-loop turn while a capture is turned into its snapshot. */
const READ_SLICE = 50_000;

/**
 * Heap keyed state with a copy-on-write table (as Flink's CopyOnWriteStateMap, per key
 * group): a capture only bumps the epoch and keeps references to the group maps, so the
 * synchronous phase costs one pointer per key group. The first write to a group after a
 * capture copies that group; the state kinds never change a value in place (see
 * state-kinds.ts), and an object value a job reads while a capture still shares it is
 * copied first (the job may change what it read), so captured groups stay as they were
 * while the snapshot is read off the record path.
 */
export class HeapKeyedStateBackend implements KeyedStateBackend {
  private readonly tables = new Map<string, Table>();
  private currentTableKey: TableKey = '';
  private currentKeyGroup = 0;
  private currentKeyValue: unknown;
  private epoch = 0;
  private changes?: ChangeSet;
  private sinceFull = false;
  /** Captures not read yet: while there are any, shared object values are copied on read. */
  private openCaptures = 0;
  private readonly copier: RecordSerializer;

  constructor(
    readonly range: KeyGroupRange,
    private readonly maxParallelism: number,
    private readonly types: TypeRegistry = NO_TYPES,
    options: { trackChanges?: boolean } = {},
  ) {
    if (options.trackChanges) this.changes = new ChangeSet();
    this.copier = new RecordSerializer(types);
  }

  /** Throws a ContractViolation for a key that cannot be a key (null, undefined, a function...). */
  setCurrentKey(key: unknown): void {
    const text = keyToString(key, this.types);
    this.currentKeyValue = key;
    this.currentKeyGroup = keyGroupFor(text, this.maxParallelism);
    // A number looks up faster than a string built for every record.
    this.currentTableKey = typeof key === 'number' ? key : text;
  }

  currentKey(): unknown {
    return this.currentKeyValue;
  }

  private table(name: string, kind: string): Table {
    let table = this.tables.get(name);
    if (!table) {
      table = { kind, groups: new Map(), epochs: new Map(), owned: new Map() };
      this.tables.set(name, table);
    } else if (table.kind !== kind) {
      throw new StateError(`state "${name}" is a ${table.kind} state, not a ${kind} state`);
    }
    return table;
  }

  /** The current epoch's own map of a key group: copied first if a capture still shares it. */
  private ownGroup(table: Table, kg: number): Group {
    const group = table.groups.get(kg);
    if (group && table.epochs.get(kg) === this.epoch) return group;
    const own: Group = group ? new Map(group) : new Map();
    table.groups.set(kg, own);
    table.epochs.set(kg, this.epoch);
    table.owned.set(kg, new Set());
    return own;
  }

  /** A value the job may change in place, still shared with a capture being read: its own copy. */
  private readForJob(table: Table): unknown {
    const kg = this.currentKeyGroup;
    const value = table.groups.get(kg)?.get(this.currentTableKey);
    if (this.openCaptures === 0 || value === null || typeof value !== 'object') return value;
    const group = this.ownGroup(table, kg);
    let owned = table.owned.get(kg);
    if (!owned) table.owned.set(kg, (owned = new Set()));
    if (owned.has(this.currentTableKey)) return value;
    // Through the serializer: registered classes keep their prototype, as after a restore.
    const copy = fromCanonical(table.kind, this.copier.decodeState(this.copier.encodeState(toCanonical(table.kind, value))));
    group.set(this.currentTableKey, copy);
    owned.add(this.currentTableKey);
    return copy;
  }

  private cell(name: string, table: Table): StateCell {
    return {
      read: () => this.readForJob(table),
      write: (value) => {
        this.ownGroup(table, this.currentKeyGroup).set(this.currentTableKey, value);
        table.owned.get(this.currentKeyGroup)?.add(this.currentTableKey);
        this.changes?.mark(name, this.currentKeyGroup, this.currentTableKey);
      },
      remove: () => {
        if (!table.groups.get(this.currentKeyGroup)?.has(this.currentTableKey)) return;
        this.ownGroup(table, this.currentKeyGroup).delete(this.currentTableKey);
        this.changes?.mark(name, this.currentKeyGroup, this.currentTableKey);
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
    const frozen = [...this.tables].map(([name, t]) => ({ name, kind: t.kind, groups: [...t.groups] }));
    this.epoch++;
    const changes = this.changes;
    if (this.changes) this.changes = new ChangeSet();
    if (mode === 'full') this.sinceFull = true;
    const range = this.range;
    this.openCaptures++;
    let done = false;
    const release = () => {
      if (!done) this.openCaptures--;
      done = true;
    };
    async function* chunks(maxEntries = Infinity): AsyncGenerator<KeyedSnapshot> {
      try {
        const parts = new ChunkBuilder(range, mode, maxEntries);
        let sinceYield = 0;
        for (const { name, kind, groups } of frozen) {
          const changed = mode === 'delta' ? changes?.states.get(name) : undefined;
          for (const [kg, group] of groups) {
            const entries: [TableKey, unknown][] = [];
            const removed: TableKey[] = [];
            if (mode === 'full') {
              for (const [k, v] of group) entries.push([k, toCanonical(kind, v)]);
            } else {
              const keys = changed?.get(kg);
              if (!keys) continue;
              for (const k of keys) {
                const v = group.get(k);
                if (v === undefined) removed.push(k);
                else entries.push([k, toCanonical(kind, v)]);
              }
            }
            const full = parts.add(name, kind, kg, entries, removed);
            if (full) yield full;
            sinceYield += entries.length;
            if (sinceYield >= READ_SLICE) {
              sinceYield = 0;
              await yieldToEventLoop();
            }
          }
          // A state whose key groups were all emptied may have groups only in `changed`.
          if (mode === 'delta' && changed) {
            const present = new Set(groups.map(([kg]) => kg));
            for (const [kg, keys] of changed) if (!present.has(kg)) parts.add(name, kind, kg, [], [...keys]);
          }
        }
        yield* parts.rest();
      } finally {
        release();
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
          const group = snap.delta ? this.ownGroup(table, kg) : new Map<TableKey, unknown>();
          for (const [k, v] of entries) group.set(k, fromCanonical(kind, v));
          if (!snap.delta) {
            table.groups.set(kg, group);
            table.epochs.set(kg, this.epoch);
            table.owned.set(kg, new Set());
          }
        }
        for (const [kg, keys] of removed ?? []) {
          if (kg < this.range.start || kg > this.range.end || !table.groups.has(kg)) continue;
          const group = this.ownGroup(table, kg);
          for (const k of keys) group.delete(k);
        }
      }
      await yieldToEventLoop();
    }
  }

  keyCount(): number {
    let n = 0;
    for (const { groups } of this.tables.values()) for (const g of groups.values()) n += g.size;
    return n;
  }

  async dispose(): Promise<void> {
    this.tables.clear();
  }
}

export function toCanonical(kind: string, value: unknown): unknown {
  return kind === 'map' ? mapToEntries(value as Map<string, [unknown, unknown]>) : value;
}

export function fromCanonical(kind: string, value: unknown): unknown {
  return kind === 'map' ? entriesToMap(value as [string, [unknown, unknown]][]) : value;
}

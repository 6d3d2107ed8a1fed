import { ContractViolation, keyGroupFor, keyToString, NO_TYPES, prepareValue, StateError, type KeyGroupRange, type TypeRegistry } from '@weir/core';
import type { ListState, MapState, ReducingState, StateDescriptor, ValueState } from '@weir/api';
import type { ReducingStateDescriptor, ValueStateDescriptor } from '@weir/api';

/** Numbers index the table as they are; every other key by its stable text form. */
type TableKey = number | string;
type Table = Map<number, Map<TableKey, unknown>>; // key group -> key -> value

/** A captured copy of keyed state, taken in the synchronous part of a snapshot. */
export interface KeyedSnapshot {
  range: KeyGroupRange;
  states: Record<string, { kind: string; groups: [number, [TableKey, unknown][]][] }>;
}

/**
 * Heap keyed state, partitioned by key group so that a restore at another parallelism
 * can pick the groups it owns. Values are treated as immutable: update() replaces them.
 * Every value written is checked against the serializer contract then, so a value that
 * could not be restored fails the job at once, naming the state, not at a checkpoint.
 */
export class HeapKeyedStateBackend {
  private readonly tables = new Map<string, { kind: string; table: Table }>();
  private currentTableKey: TableKey = '';
  private currentKeyGroup = 0;
  private currentKeyValue: unknown;

  constructor(
    readonly range: KeyGroupRange,
    private readonly maxParallelism: number,
    private readonly types: TypeRegistry = NO_TYPES,
  ) {}

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
    let entry = this.tables.get(name);
    if (!entry) {
      entry = { kind, table: new Map() };
      this.tables.set(name, entry);
    } else if (entry.kind !== kind) {
      throw new StateError(`state "${name}" is a ${entry.kind} state, not a ${kind} state`);
    }
    return entry.table;
  }

  private read(table: Table): unknown {
    return table.get(this.currentKeyGroup)?.get(this.currentTableKey);
  }

  private write(table: Table, value: unknown): void {
    let group = table.get(this.currentKeyGroup);
    if (!group) table.set(this.currentKeyGroup, (group = new Map()));
    group.set(this.currentTableKey, value);
  }

  private remove(table: Table): void {
    table.get(this.currentKeyGroup)?.delete(this.currentTableKey);
  }

  /** Checks a value before it is kept; the error names the state and the operator (namespace = uid). */
  private checked<V>(value: V, stateName: string, namespace: string, root: string): V {
    try {
      prepareValue(value, this.types);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(`state "${stateName}" of operator uid ${namespace} cannot hold the value`, root);
      throw err;
    }
    return value;
  }

  private mapKeyText(key: unknown, stateName: string, namespace: string): string {
    try {
      return keyToString(key, this.types);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(`map state "${stateName}" of operator uid ${namespace}`, 'key');
      throw err;
    }
  }

  getState<S>(descriptor: StateDescriptor<S>, namespace: string): S {
    const name = `${namespace}/${descriptor.name}`;
    const table = this.table(name, descriptor.kind);
    const check = <V>(value: V, root = 'value'): V => this.checked(value, descriptor.name, namespace, root);
    const mapKey = (key: unknown): string => this.mapKeyText(key, descriptor.name, namespace);
    switch (descriptor.kind) {
      case 'value': {
        const d = descriptor as unknown as ValueStateDescriptor<unknown>;
        const state: ValueState<unknown> = {
          value: () => (this.read(table) as unknown) ?? d.defaultValue,
          update: (v) => (v === undefined || v === null ? this.remove(table) : this.write(table, check(v))),
          clear: () => this.remove(table),
        };
        return state as S;
      }
      case 'reducing': {
        const d = descriptor as unknown as ReducingStateDescriptor<unknown>;
        const state: ReducingState<unknown> = {
          get: () => this.read(table),
          add: (v) => {
            const current = this.read(table);
            this.write(table, check(current === undefined ? v : d.reduce(current, v)));
          },
          clear: () => this.remove(table),
        };
        return state as S;
      }
      case 'list': {
        const state: ListState<unknown> = {
          get: () => [...((this.read(table) as unknown[]) ?? [])],
          add: (v) => {
            check(v, 'element');
            const list = this.read(table) as unknown[] | undefined;
            if (list) list.push(v);
            else this.write(table, [v]);
          },
          update: (values) => (values.length ? this.write(table, check([...values], 'elements')) : this.remove(table)),
          clear: () => this.remove(table),
        };
        return state as S;
      }
      case 'map': {
        const entries = () => this.read(table) as Map<string, [unknown, unknown]> | undefined;
        const state: MapState<unknown, unknown> = {
          get: (k) => entries()?.get(mapKey(k))?.[1],
          put: (k, v) => {
            const text = mapKey(k);
            check(v);
            let m = entries();
            if (!m) this.write(table, (m = new Map()));
            m.set(text, [k, v]);
          },
          contains: (k) => entries()?.has(mapKey(k)) ?? false,
          remove: (k) => {
            const m = entries();
            m?.delete(mapKey(k));
            if (m && m.size === 0) this.remove(table);
          },
          entries: () => [...(entries()?.values() ?? [])].map(([k, v]) => [k, v] as [unknown, unknown]),
          keys: () => [...(entries()?.values() ?? [])].map(([k]) => k),
          values: () => [...(entries()?.values() ?? [])].map(([, v]) => v),
          isEmpty: () => (entries()?.size ?? 0) === 0,
          clear: () => this.remove(table),
        };
        return state as S;
      }
    }
  }

  /** Synchronous part: copies the maps (and mutable list/map values) so processing can go on. */
  snapshot(): KeyedSnapshot {
    const states: KeyedSnapshot['states'] = {};
    for (const [name, { kind, table }] of this.tables) {
      const groups: [number, [TableKey, unknown][]][] = [];
      for (const [kg, entries] of table) {
        if (entries.size === 0) continue;
        const copied: [TableKey, unknown][] = [];
        for (const [k, v] of entries) copied.push([k, copyValue(kind, v)]);
        groups.push([kg, copied]);
      }
      states[name] = { kind, groups };
    }
    return { range: this.range, states };
  }

  /** Takes the key groups this backend owns from any number of snapshots. */
  restore(snapshots: KeyedSnapshot[]): void {
    for (const snap of snapshots) {
      for (const [name, { kind, groups }] of Object.entries(snap.states)) {
        const table = this.table(name, kind);
        for (const [kg, entries] of groups) {
          if (kg < this.range.start || kg > this.range.end) continue;
          const group = new Map<TableKey, unknown>();
          // Copies, as snapshot() does: list add() pushes in place and must not write into the snapshot.
          for (const [k, v] of entries) group.set(k, kind === 'map' ? new Map(v as [string, [unknown, unknown]][]) : kind === 'list' ? [...(v as unknown[])] : v);
          table.set(kg, group);
        }
      }
    }
  }

  keyCount(): number {
    let n = 0;
    for (const { table } of this.tables.values()) for (const g of table.values()) n += g.size;
    return n;
  }
}

function copyValue(kind: string, value: unknown): unknown {
  if (kind === 'list') return [...(value as unknown[])];
  if (kind === 'map') return [...(value as Map<string, [unknown, unknown]>).entries()].map(([k, [mk, mv]]) => [k, [mk, mv]]);
  return value;
}

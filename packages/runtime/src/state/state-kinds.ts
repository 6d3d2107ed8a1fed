import { keyToString } from '@weir/core';
import type { ListState, MapState, ReducingState, ReducingStateDescriptor, StateDescriptor, ValueState, ValueStateDescriptor } from '@weir/api';

/** One state's value for the backend's current key. */
export interface StateCell {
  read(): unknown;
  write(value: unknown): void;
  remove(): void;
}

/**
 * The state kinds a job sees, built on a cell. Stored values are never changed in place
 * (list add and map put write a new value): the heap backend's copy-on-write snapshot
 * shares values with the live table, and the embedded backend must write every change.
 */
export function stateFacade<S>(descriptor: StateDescriptor<S>, cell: StateCell): S {
  switch (descriptor.kind) {
    case 'value': {
      const d = descriptor as unknown as ValueStateDescriptor<unknown>;
      const state: ValueState<unknown> = {
        value: () => cell.read() ?? d.defaultValue,
        update: (v) => (v === undefined || v === null ? cell.remove() : cell.write(v)),
        clear: () => cell.remove(),
      };
      return state as S;
    }
    case 'reducing': {
      const d = descriptor as unknown as ReducingStateDescriptor<unknown>;
      const state: ReducingState<unknown> = {
        get: () => cell.read(),
        add: (v) => {
          const current = cell.read();
          cell.write(current === undefined ? v : d.reduce(current, v));
        },
        clear: () => cell.remove(),
      };
      return state as S;
    }
    case 'list': {
      const list = () => (cell.read() as unknown[] | undefined) ?? [];
      const state: ListState<unknown> = {
        get: () => [...list()],
        add: (v) => cell.write([...list(), v]),
        update: (values) => (values.length ? cell.write([...values]) : cell.remove()),
        clear: () => cell.remove(),
      };
      return state as S;
    }
    case 'map': {
      const entries = () => cell.read() as Map<string, [unknown, unknown]> | undefined;
      const state: MapState<unknown, unknown> = {
        get: (k) => entries()?.get(keyToString(k))?.[1],
        put: (k, v) => {
          const m = new Map(entries());
          m.set(keyToString(k), [k, v]);
          cell.write(m);
        },
        contains: (k) => entries()?.has(keyToString(k)) ?? false,
        remove: (k) => {
          const current = entries();
          if (!current?.has(keyToString(k))) return;
          const m = new Map(current);
          m.delete(keyToString(k));
          if (m.size === 0) cell.remove();
          else cell.write(m);
        },
        entries: () => [...(entries()?.values() ?? [])].map(([k, v]) => [k, v] as [unknown, unknown]),
        keys: () => [...(entries()?.values() ?? [])].map(([k]) => k),
        values: () => [...(entries()?.values() ?? [])].map(([, v]) => v),
        isEmpty: () => (entries()?.size ?? 0) === 0,
        clear: () => cell.remove(),
      };
      return state as S;
    }
  }
  throw new Error(`unknown state kind ${(descriptor as { kind: string }).kind}`);
}

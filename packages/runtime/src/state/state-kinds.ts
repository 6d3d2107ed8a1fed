import { ContractViolation, keyToString, prepareValue, type TypeRegistry } from '@weir/core';
import type { ListState, MapState, ReducingState, ReducingStateDescriptor, StateDescriptor, ValueState, ValueStateDescriptor } from '@weir/api';

/** One state's value for the backend's current key. */
export interface StateCell {
  read(): unknown;
  write(value: unknown): void;
  remove(): void;
}

/** What a write is checked against: the serializer contract, with the job's registered classes. */
export interface StateContract {
  types: TypeRegistry;
  /** The state's own name and its operator's uid, for the error. */
  stateName: string;
  namespace: string;
}

/**
 * The state kinds a job sees, built on a cell. Every value written is checked against the
 * serializer contract then, so a value that could not be restored fails the job at once,
 * naming the state, not at a checkpoint. Stored values are never changed in place
 * (list add and map put write a new value): the heap backend's copy-on-write snapshot
 * shares values with the live table, and the embedded backend must write every change.
 */
export function stateFacade<S>(descriptor: StateDescriptor<S>, cell: StateCell, contract: StateContract): S {
  const { types, stateName, namespace } = contract;
  const check = <V>(value: V, root = 'value'): V => {
    try {
      prepareValue(value, types);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(`state "${stateName}" of operator uid ${namespace} cannot hold the value`, root);
      throw err;
    }
    return value;
  };
  const mapKey = (key: unknown): string => {
    try {
      return keyToString(key, types);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(`map state "${stateName}" of operator uid ${namespace}`, 'key');
      throw err;
    }
  };
  switch (descriptor.kind) {
    case 'value': {
      const d = descriptor as unknown as ValueStateDescriptor<unknown>;
      const state: ValueState<unknown> = {
        value: () => cell.read() ?? d.defaultValue,
        update: (v) => (v === undefined || v === null ? cell.remove() : cell.write(check(v))),
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
          cell.write(check(current === undefined ? v : d.reduce(current, v)));
        },
        clear: () => cell.remove(),
      };
      return state as S;
    }
    case 'list': {
      const list = () => (cell.read() as unknown[] | undefined) ?? [];
      const state: ListState<unknown> = {
        get: () => [...list()],
        add: (v) => cell.write([...list(), check(v, 'element')]),
        update: (values) => (values.length ? cell.write(check([...values], 'elements')) : cell.remove()),
        clear: () => cell.remove(),
      };
      return state as S;
    }
    case 'map': {
      const entries = () => cell.read() as Map<string, [unknown, unknown]> | undefined;
      const state: MapState<unknown, unknown> = {
        get: (k) => entries()?.get(mapKey(k))?.[1],
        put: (k, v) => {
          const text = mapKey(k);
          check(v);
          const m = new Map(entries());
          m.set(text, [k, v]);
          cell.write(m);
        },
        contains: (k) => entries()?.has(mapKey(k)) ?? false,
        remove: (k) => {
          const text = mapKey(k);
          const current = entries();
          if (!current?.has(text)) return;
          const m = new Map(current);
          m.delete(text);
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

/** Keyed state, scoped to the key of the record being processed, and operator state. */
export interface ValueState<T> {
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}
export interface ListState<T> {
  get(): T[];
  add(value: T): void;
  update(values: T[]): void;
  clear(): void;
}
export interface MapState<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  contains(key: K): boolean;
  remove(key: K): void;
  entries(): [K, V][];
  keys(): K[];
  values(): V[];
  isEmpty(): boolean;
  clear(): void;
}
export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

export type StateKind = 'value' | 'list' | 'map' | 'reducing';

export abstract class StateDescriptor<S> {
  declare readonly __state?: S;
  abstract readonly kind: StateKind;
  constructor(readonly name: string) {}
}
export class ValueStateDescriptor<T> extends StateDescriptor<ValueState<T>> {
  readonly kind = 'value';
  constructor(name: string, readonly defaultValue?: T) {
    super(name);
  }
}
export class ListStateDescriptor<T> extends StateDescriptor<ListState<T>> {
  readonly kind = 'list';
}
export class MapStateDescriptor<K, V> extends StateDescriptor<MapState<K, V>> {
  readonly kind = 'map';
  declare readonly __types?: [K, V];
}
export class ReducingStateDescriptor<T> extends StateDescriptor<ReducingState<T>> {
  readonly kind = 'reducing';
  constructor(name: string, readonly reduce: (a: T, b: T) => T) {
    super(name);
  }
}

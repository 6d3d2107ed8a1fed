import type { OperatorContext } from './operator';

export type MapFunction<IN, OUT> = (value: IN) => OUT;
export type FlatMapFunction<IN, OUT> = (value: IN, out: Collector<OUT>) => void | Iterable<OUT>;
export type FilterFunction<IN> = (value: IN) => boolean;
export type KeySelector<IN, K> = (value: IN) => K;
export type ReduceFunction<T> = (a: T, b: T) => T;

export interface Collector<T> {
  collect(value: T): void;
}

/** Passed to process functions: keyed state and the current key. */
export interface ProcessContext {
  readonly runtime: OperatorContext;
  getState: OperatorContext['getState'];
  currentKey(): unknown;
}

export interface ProcessFunction<IN, OUT> {
  open?(ctx: ProcessContext): void;
  processElement(value: IN, ctx: ProcessContext, out: Collector<OUT>): void;
}

/** A user sink: called for every record, optionally flushed at checkpoints and the end. */
export interface SinkFunction<T> {
  open?(ctx: OperatorContext): void | Promise<void>;
  invoke(value: T): void;
  flush?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

import type { ListState, StateDescriptor } from './state';

/**
 * The contract between the operators a job builds and the runtime that runs them. Job
 * authors don't implement these directly; the DataStream methods create them.
 */
export interface Output<T = unknown> {
  collect(value: T): void;
}

export interface OperatorContext {
  readonly jobId: string;
  readonly taskName: string;
  readonly subtask: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly attempt: number;
  /** True when this operator's state was restored from a checkpoint or savepoint. */
  readonly isRestored: boolean;
  /** Keyed state of the current key; only for operators right after keyBy. */
  getState<S>(descriptor: StateDescriptor<S>): S;
  /**
   * Operator list state. On restore every subtask sees the union of all subtasks' entries
   * and keeps the ones it owns, so sources can redistribute their splits when rescaled.
   */
  getUnionListState<T>(name: string): ListState<T>;
  /**
   * Operator list state split evenly on restore: each entry goes to exactly one subtask
   * of the new parallelism (Flink's getListState).
   */
  getListState<T>(name: string): ListState<T>;
  /** The key of the record being processed (keyed operators only). */
  currentKey(): unknown;
  readonly config: Readonly<Record<string, string>>;
}

export interface StreamOperator<IN = unknown, OUT = unknown> {
  open?(ctx: OperatorContext, out: Output<OUT>): void | Promise<void>;
  processElement(value: IN, out: Output<OUT>): void;
  /** Synchronous part of a snapshot: move what must be kept into state objects. */
  snapshotState?(checkpointId: number): void;
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  notifyCheckpointAborted?(checkpointId: number): void | Promise<void>;
  /** End of input: flush what is buffered. */
  finish?(out: Output<OUT>): void | Promise<void>;
  close?(): void | Promise<void>;
}

export type SourceStep =
  | { status: 'more' }
  | { status: 'idle'; waitMs: number }
  | { status: 'end' };

export interface SourceOperator<OUT = unknown> {
  open(ctx: OperatorContext): void | Promise<void>;
  /** Emits at most `max` records; the runtime calls it again when the output has room. */
  emit(out: Output<OUT>, max: number): SourceStep | Promise<SourceStep>;
  /** Store the read position into operator state (called between emit calls). */
  snapshotState?(checkpointId: number): void;
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  close?(): void | Promise<void>;
}

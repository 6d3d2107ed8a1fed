import type { KeySelector } from './functions';
import type { SourceOperator, StreamOperator } from './operator';

export type PartitionKind = 'FORWARD' | 'REBALANCE' | 'HASH' | 'BROADCAST';

/** One node of the logical plan the job function records; the graph is built from these. */
export interface Transformation {
  readonly id: number;
  readonly kind: string;
  name: string;
  uid?: string;
  parallelism?: number;
  maxParallelism?: number;
  readonly inputs: TransformationInput[];
  readonly createSource?: () => SourceOperator;
  readonly createOperator?: () => StreamOperator;
  readonly bounded?: boolean;
  /** Sources that cannot run in parallel (collections, files, sockets). */
  readonly nonParallel?: boolean;
  /** Set when this operator reads a keyed stream: its key selector scopes keyed state. */
  readonly keySelector?: KeySelector<unknown, unknown>;
}

export interface TransformationInput {
  readonly from: Transformation;
  readonly partitioning: PartitionKind;
  readonly keySelector?: KeySelector<unknown, unknown>;
}

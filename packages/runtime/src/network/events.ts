import type { KeyGroupColumn, RecordSerializer } from '@weir/core';

/**
 * A batch of records. To a consumer in another slot it travels encoded. To a consumer in
 * the same slot thread it goes as the records the producer emitted (checked against the
 * serializer contract instead of encoded), as chained operators pass them: the same
 * objects, so neither side may change a record after it was emitted.
 */
export type BatchItem =
  | { kind: 'batch'; data: Buffer; count: number }
  | {
      kind: 'batch';
      data?: undefined;
      count: number;
      records: unknown[];
      keyGroups?: KeyGroupColumn;
      /** What the batch would take encoded, at the producer's last measured record size (buffer debloating). */
      bytes: number;
      /** Encodes the batch where bytes are needed: in-flight data of an unaligned checkpoint. */
      serializer: RecordSerializer;
    };

/** What travels through a channel, in order: record batches and in-band events. */
export type ChannelItem =
  | BatchItem
  /**
   * `unaligned`: the barrier overtook the records queued before it, and the consumer acts
   * on it when it arrives. `final`: the bounded job's last checkpoint, always aligned, so
   * that nothing is left in flight behind it.
   */
  | { kind: 'barrier'; checkpointId: number; timestamp: number; unaligned?: boolean; final?: boolean }
  | { kind: 'end' };

/** A batch handed over as records, in the same thread. */
export type LocalBatchItem = Extract<BatchItem, { records: unknown[] }>;

/** A batch as bytes: as it came, or encoded now. */
export function batchBytes(item: BatchItem): Buffer {
  return item.data ?? item.serializer.encodeRecords(item.records, item.keyGroups);
}

/** A batch's size in bytes, encoded or estimated. */
export function batchSize(item: BatchItem): number {
  return item.data ? item.data.length : item.bytes;
}

/** The receiving end of a subpartition: a gRPC stream or a local input channel. */
export interface SubpartitionConsumer {
  deliver(item: ChannelItem): void;
}

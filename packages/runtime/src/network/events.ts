/** What travels through a channel, in order: record batches and in-band events. */
export type ChannelItem =
  | { kind: 'batch'; data: Buffer; count: number }
  /**
   * `unaligned`: the barrier overtook the records queued before it, and the consumer acts
   * on it when it arrives. `final`: the bounded job's last checkpoint, always aligned, so
   * that nothing is left in flight behind it.
   */
  | { kind: 'barrier'; checkpointId: number; timestamp: number; unaligned?: boolean; final?: boolean }
  | { kind: 'end' };

/** The receiving end of a subpartition: a gRPC stream or a local input channel. */
export interface SubpartitionConsumer {
  deliver(item: ChannelItem): void;
}

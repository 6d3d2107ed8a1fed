/** What travels through a channel, in order: record batches and in-band events. */
export type ChannelItem =
  | { kind: 'batch'; data: Buffer; count: number }
  | { kind: 'barrier'; checkpointId: number; timestamp: number }
  | { kind: 'end' };

/** The receiving end of a subpartition: a gRPC stream or a local input channel. */
export interface SubpartitionConsumer {
  deliver(item: ChannelItem): void;
}

import { Signal } from '../signal';
import { batchBytes, batchSize, type ChannelItem } from './events';

/** The consumer side of one channel: a queue of items and a way to hand credits back. */
export class InputChannel {
  readonly queue: ChannelItem[] = [];
  ended = false;
  /** Held back while it waits for the other channels' barriers (alignment). */
  blocked = false;
  /**
   * An unaligned checkpoint this channel records for: every batch delivered until the
   * channel's barrier of that checkpoint arrives is in-flight data of the checkpoint.
   */
  recordingFor = 0;
  readonly recorded: Buffer[] = [];
  /** Bytes of batches delivered, for buffer debloating's throughput. */
  bytesDelivered = 0;
  returnCredit: (n: number) => void = () => {};
  /** Asks the producer to cut its batches for this channel at about this many bytes. */
  requestBatchBytes: (bytes: number) => void = () => {};

  constructor(
    readonly index: number,
    readonly description: string,
    private readonly gate: InputGate,
  ) {}

  deliver(item: ChannelItem): void {
    if (item.kind === 'batch') {
      this.bytesDelivered += batchSize(item);
      if (this.recordingFor) this.recorded.push(batchBytes(item));
    } else {
      // A barrier (or the end) closes this channel's part of an unaligned checkpoint.
      if (this.recordingFor && (item.kind === 'end' || item.checkpointId >= this.recordingFor)) this.gate.stopRecording(this);
      if (item.kind === 'barrier') this.gate.barrierArrived(this, item.checkpointId, !!item.unaligned);
    }
    this.queue.push(item);
    this.gate.signal.notify();
  }

  fail(error: Error): void {
    this.gate.fail(error);
  }
}

/** All input channels of a task; hands out items from channels that are not held back. */
export class InputGate {
  readonly channels: InputChannel[] = [];
  readonly signal = new Signal();
  private next = 0;
  error?: Error;
  /** Channels whose unaligned barrier arrived and waits to be acted on: before anything is polled. */
  readonly arrivedBarriers: InputChannel[] = [];
  /** When the first barrier of each checkpoint reached this task (start delay). */
  readonly firstBarrierAt = new Map<number, number>();
  /** Called when the last recording channel received its barrier. */
  onRecordingDone: () => void = () => {};

  addChannel(description: string): InputChannel {
    const channel = new InputChannel(this.channels.length, description, this);
    this.channels.push(channel);
    return channel;
  }

  fail(error: Error): void {
    this.error ??= error;
    this.signal.notify();
  }

  barrierArrived(channel: InputChannel, checkpointId: number, unaligned: boolean): void {
    if (!this.firstBarrierAt.has(checkpointId)) {
      this.firstBarrierAt.set(checkpointId, Date.now());
      for (const id of this.firstBarrierAt.keys()) if (id < checkpointId - 16) this.firstBarrierAt.delete(id);
    }
    if (unaligned) this.arrivedBarriers.push(channel);
  }

  stopRecording(channel: InputChannel): void {
    channel.recordingFor = 0;
    if (!this.isRecording()) this.onRecordingDone();
  }

  isRecording(): boolean {
    return this.channels.some((c) => c.recordingFor > 0);
  }

  /** Round-robin over channels with data, so no input starves another. */
  poll(): { channel: InputChannel; item: ChannelItem } | undefined {
    const n = this.channels.length;
    for (let i = 0; i < n; i++) {
      const channel = this.channels[(this.next + i) % n];
      if (channel.blocked || channel.queue.length === 0) continue;
      this.next = (channel.index + 1) % n;
      return { channel, item: channel.queue.shift() as ChannelItem };
    }
    return undefined;
  }

  allEnded(): boolean {
    return this.channels.every((c) => c.ended);
  }

  unblockAll(): void {
    for (const c of this.channels) c.blocked = false;
    this.signal.notify();
  }
}

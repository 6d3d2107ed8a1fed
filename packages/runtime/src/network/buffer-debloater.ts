import type { InputChannel } from './input-gate';
import type { NetworkSettings } from './network-settings';

/** Batches one channel can hold in flight: the consumer's credits plus the producer's backlog. */
export const BATCHES_IN_FLIGHT = 8;
/** Sizes move only when they change by more than this share, so producers are not told every tick. */
const CHANGE_THRESHOLD = 0.1;
/** Weight of the newest throughput sample. */
const SMOOTHING = 0.3;

/**
 * Buffer debloating, as Flink has it: the consumer measures how many bytes per second it
 * takes in and asks each producer for batches so small that all the data in flight on a
 * channel takes about `buffer-debloat.target` to process. A barrier queued behind that
 * data then waits about that long, not as long as a fixed number of full batches takes.
 */
export class BufferDebloater {
  private lastTick: number;
  private lastBytes: number;
  private rate = -1;
  private readonly asked = new Map<number, number>();

  constructor(
    private readonly channels: InputChannel[],
    private readonly settings: Pick<NetworkSettings, 'segmentSize' | 'minSegmentSize' | 'debloatTargetMs'>,
    private readonly now: () => number = Date.now,
  ) {
    this.lastTick = now();
    this.lastBytes = this.totalBytes();
  }

  /** Bytes per second the task took in, smoothed. */
  throughput(): number {
    return Math.max(0, this.rate);
  }

  /** Samples the throughput and tells producers the batch size that keeps the target. */
  tick(): void {
    const now = this.now();
    const elapsed = now - this.lastTick;
    if (elapsed <= 0) return;
    const bytes = this.totalBytes();
    const sample = ((bytes - this.lastBytes) * 1000) / elapsed;
    this.lastTick = now;
    this.lastBytes = bytes;
    this.rate = this.rate < 0 ? sample : SMOOTHING * sample + (1 - SMOOTHING) * this.rate;
    const size = this.batchBytes();
    for (const channel of this.channels) {
      if (channel.ended) continue;
      const previous = this.asked.get(channel.index);
      if (previous !== undefined && Math.abs(size - previous) <= previous * CHANGE_THRESHOLD) continue;
      this.asked.set(channel.index, size);
      channel.requestBatchBytes(size);
    }
  }

  /** The batch size that makes a channel's data in flight last `target`. */
  batchBytes(): number {
    const open = Math.max(1, this.channels.filter((c) => !c.ended).length);
    const perChannel = (this.throughput() * this.settings.debloatTargetMs) / 1000 / open;
    const size = Math.floor(perChannel / BATCHES_IN_FLIGHT);
    return Math.max(this.settings.minSegmentSize, Math.min(this.settings.segmentSize, size));
  }

  private totalBytes(): number {
    let total = 0;
    for (const c of this.channels) total += c.bytesDelivered;
    return total;
  }
}

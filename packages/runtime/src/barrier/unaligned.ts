import type { InputChannel, InputGate } from '../network/input-gate';
import { batchBytes } from '../network/events';

/** In-flight batches of one input channel that an unaligned checkpoint stores. */
export interface InputChannelState {
  channel: string;
  batches: Buffer[];
}

/** What the task does when a checkpoint turns unaligned here: snapshot now, store `inputs` once complete. */
export type UnalignedSnapshot = (checkpointId: number, timestamp: number, alignmentMs: number, inputs: Promise<InputChannelState[] | undefined>) => void;

/**
 * Unaligned checkpoints on the input side. The first barrier of checkpoint n that arrives
 * (at delivery, ahead of the records queued before it) makes the task snapshot at once;
 * the records the barrier overtook, and every record that reaches a channel before that
 * channel's own barrier n, are the checkpoint's in-flight data: still processed now, and
 * replayed from the checkpoint on restore. No channel is ever held back.
 */
export class UnalignedBarrierHandler {
  private current = 0;
  private captured: InputChannelState[] = [];
  private resolve?: (inputs: InputChannelState[] | undefined) => void;

  constructor(
    private readonly gate: InputGate,
    private readonly snapshot: UnalignedSnapshot,
  ) {
    gate.onRecordingDone = () => this.complete();
  }

  /** Acts on barriers that arrived since the last call; the task calls it before it polls. */
  handleArrived(unprocessed: () => Buffer | undefined): void {
    while (this.gate.arrivedBarriers.length > 0) {
      const channel = this.gate.arrivedBarriers.shift() as InputChannel;
      const index = channel.queue.findIndex((item) => item.kind === 'barrier' && item.unaligned);
      if (index < 0) continue;
      const barrier = channel.queue[index];
      if (barrier.kind !== 'barrier') continue;
      if (barrier.checkpointId <= this.current) {
        channel.queue.splice(index, 1); // its records were recorded when they arrived
        continue;
      }
      this.begin(barrier.checkpointId, barrier.timestamp, 0, new Set(), unprocessed);
    }
  }

  /**
   * Starts checkpoint n unaligned: from the first barrier, or when an aligned checkpoint's
   * alignment timed out (`aligned` channels delivered their barrier already: nothing of
   * theirs is in flight).
   */
  begin(checkpointId: number, timestamp: number, alignmentMs: number, aligned: Set<number>, unprocessed: () => Buffer | undefined): void {
    if (this.resolve) this.abandon();
    this.current = checkpointId;
    const inputs: InputChannelState[] = [];
    const pending = unprocessed();
    if (pending) inputs.push({ channel: 'unprocessed', batches: [pending] });
    for (const channel of this.gate.channels) {
      if (aligned.has(channel.index)) continue;
      const batches: Buffer[] = [];
      let closed = channel.ended;
      for (let i = 0; i < channel.queue.length; i++) {
        const item = channel.queue[i];
        if (item.kind === 'batch') batches.push(batchBytes(item));
        else if (item.kind === 'end') {
          closed = true;
          break;
        } else if (item.checkpointId >= checkpointId) {
          // This checkpoint's barrier has done its work here; a newer one stays for later.
          if (item.checkpointId === checkpointId) channel.queue.splice(i, 1);
          closed = true;
          break;
        }
      }
      inputs.push({ channel: channel.description, batches });
      if (!closed) {
        channel.recordingFor = checkpointId;
        channel.recorded.length = 0;
      }
    }
    this.gate.arrivedBarriers.length = 0;
    this.captured = inputs;
    const done = new Promise<InputChannelState[] | undefined>((resolve) => (this.resolve = resolve));
    this.snapshot(checkpointId, timestamp, alignmentMs, done);
    if (!this.gate.isRecording()) this.complete();
  }

  /** The JobManager aborted checkpoint n: stop recording for it. */
  onAborted(checkpointId: number): void {
    if (checkpointId === this.current && this.resolve) this.abandon();
  }

  private complete(): void {
    const resolve = this.resolve;
    if (!resolve) return;
    this.resolve = undefined;
    const byChannel = new Map(this.captured.map((c) => [c.channel, c]));
    for (const channel of this.gate.channels) {
      if (channel.recorded.length === 0) continue;
      byChannel.get(channel.description)?.batches.push(...channel.recorded);
      channel.recorded.length = 0;
    }
    this.captured = [];
    resolve([...byChannel.values()].filter((c) => c.batches.length > 0));
  }

  private abandon(): void {
    for (const channel of this.gate.channels) {
      channel.recordingFor = 0;
      channel.recorded.length = 0;
    }
    this.captured = [];
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(undefined);
  }
}

export type CheckpointingMode = 'EXACTLY_ONCE' | 'AT_LEAST_ONCE';

export interface AlignableChannel {
  index: number;
  blocked: boolean;
  ended: boolean;
}

/**
 * Decides when a task with several inputs snapshots for checkpoint n.
 * EXACTLY_ONCE holds back each channel that delivered barrier n until every channel has
 * (alignment): records behind a barrier belong to the next checkpoint, so they must not
 * reach the state before the snapshot. AT_LEAST_ONCE only counts barriers: records that
 * overtake a late barrier are in the snapshot and are replayed after a restore as well.
 */
export class BarrierAligner {
  private current = 0;
  private readonly seen = new Set<number>();
  private alignmentStart = 0;
  private lastCompleted = 0;
  private currentTimestamp = 0;
  private currentFinal = false;

  constructor(
    private readonly channels: AlignableChannel[],
    private readonly mode: CheckpointingMode,
    private readonly snapshot: (checkpointId: number, timestamp: number, alignmentMs: number, final: boolean) => void,
    private readonly unblockAll: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  onBarrier(channel: AlignableChannel, checkpointId: number, timestamp: number, final = false): void {
    if (checkpointId <= this.lastCompleted) return; // stale barrier of a finished checkpoint
    if (checkpointId < this.current) return; // an older checkpoint this task already gave up on
    if (checkpointId > this.current) {
      // A newer barrier supersedes an alignment in progress (the older checkpoint was aborted).
      if (this.seen.size > 0) this.release();
      this.current = checkpointId;
      this.currentTimestamp = timestamp;
      this.currentFinal = final;
      this.alignmentStart = this.now();
    }
    this.seen.add(channel.index);
    if (this.mode === 'EXACTLY_ONCE' && this.channels.length > 1) channel.blocked = true;
    this.maybeComplete(timestamp);
  }

  /** A channel that ended can deliver no barrier: stop waiting for it. */
  onEndOfPartition(): void {
    if (this.seen.size > 0) this.maybeComplete(0);
  }

  /** The JobManager aborted a checkpoint this task may be aligning for. */
  onAborted(checkpointId: number): void {
    if (checkpointId === this.current && this.seen.size > 0) {
      this.release();
      this.lastCompleted = Math.max(this.lastCompleted, checkpointId);
    }
  }

  isAligning(): boolean {
    return this.seen.size > 0;
  }

  /** How long the alignment in progress has taken (0 when none is). */
  alignmentMs(): number {
    return this.seen.size > 0 ? this.now() - this.alignmentStart : 0;
  }

  /**
   * Aligned-checkpoint timeout: the checkpoint in alignment turns unaligned. Returns it and
   * the channels that delivered their barrier already, and releases every held channel;
   * the caller takes the snapshot instead of this aligner.
   */
  takeOver(): { checkpointId: number; timestamp: number; alignmentMs: number; aligned: Set<number> } | undefined {
    // A bounded job's final checkpoint stays aligned: nothing may be in flight behind it.
    if (this.seen.size === 0 || this.currentFinal) return undefined;
    const taken = { checkpointId: this.current, timestamp: this.currentTimestamp, alignmentMs: this.alignmentMs(), aligned: new Set(this.seen) };
    this.lastCompleted = this.current;
    this.release();
    return taken;
  }

  private maybeComplete(timestamp: number): void {
    const waiting = this.channels.some((c) => !c.ended && !this.seen.has(c.index));
    if (waiting) return;
    const id = this.current;
    const alignmentMs = this.now() - this.alignmentStart;
    this.lastCompleted = id;
    this.seen.clear();
    // Snapshot before releasing: the held channels' records belong after this checkpoint.
    this.snapshot(id, timestamp, alignmentMs, this.currentFinal);
    this.unblockAll();
  }

  private release(): void {
    this.seen.clear();
    this.unblockAll();
  }
}

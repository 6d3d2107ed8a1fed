import type { KeyGroupColumn } from '@weir/core';
import type { InputChannel } from '../network/input-gate';
import { yieldToEventLoop } from '../signal';

/**
 * Longest stretch of user code between two turns of the slot's event loop: the slot's
 * network side (gRPC streams, credits, keepalive pings) and a snapshot's asynchronous
 * write run in those turns. By elapsed time, not by batch count, so slow records
 * cannot stretch it.
 */
export const YIELD_INTERVAL_MS = 10;

interface FeederBatch {
  channel?: InputChannel;
  records: unknown[];
  next: number;
  keyGroups?: KeyGroupColumn;
}

/** Most records between two looks at the clock: a slice overruns by this many records at worst. */
const MAX_STRIDE = 64;

type BatchLoop = (current: FeederBatch, sliceUsedUp: () => boolean, stride: number) => number;

/**
 * Processes records from `current.next` until the batch is done or the time slice is used
 * up, looking at the clock every `stride` records; returns how many it processed.
 */
function batchLoop(process: (record: unknown, keyGroups: KeyGroupColumn | undefined, index: number) => void): BatchLoop {
  const make = new Function('process', `return function runBatch(current, sliceUsedUp, stride) {
    const records = current.records;
    const keyGroups = current.keyGroups;
    const from = current.next;
    let sinceClock = 0;
    while (current.next < records.length) {
      const index = current.next++;
      process(records[index], keyGroups, index);
      if (++sinceClock === stride) {
        sinceClock = 0;
        if (sliceUsedUp()) break;
      }
    }
    return current.next - from;
  };`) as (p: typeof process) => BatchLoop;
  return make(process);
}

/**
 * Feeds a task's input records into its operator chain in time slices: the batch taken
 * from a channel (or in-flight data restored from an unaligned checkpoint) is processed
 * until it is done or the slice is used up, and what is left is known, so an unaligned
 * checkpoint can store it.
 */
export class RecordFeeder {
  private current?: FeederBatch;
  private readonly replay: unknown[][] = [];
  private lastYield = Date.now();

  /** The loop over a batch's records, compiled for this task (see own-call-sites.ts). */
  private readonly runBatch: BatchLoop;
  /**
   * Records between two looks at the clock: about a sixteenth of what the last slice
   * processed, so that fast records do not pay for a clock read each few records and slow
   * ones still end their slice on time.
   */
  private stride = 1;
  private processedInSlice = 0;
  private readonly usedUp: () => boolean;

  constructor(
    /** keyGroups: the batch's key groups, when its producer sent them; the record's is at `index`. */
    process: (record: unknown, keyGroups: KeyGroupColumn | undefined, index: number) => void,
    /** The task's serializer, for what is left when an unaligned checkpoint stores it. */
    private readonly encode: (records: unknown[]) => Buffer,
  ) {
    this.runBatch = batchLoop(process);
    this.usedUp = () => this.sliceUsedUp();
  }

  /** Restored in-flight records: processed before anything new is taken. */
  addReplay(batches: unknown[][]): void {
    this.replay.push(...batches);
  }

  take(channel: InputChannel, records: unknown[], keyGroups?: KeyGroupColumn): void {
    this.current = { channel, records, next: 0, keyGroups };
  }

  /** There are records taken in that are not processed yet. */
  hasWork(): boolean {
    return this.current !== undefined || this.replay.length > 0;
  }

  sliceUsedUp(): boolean {
    return Date.now() - this.lastYield >= YIELD_INTERVAL_MS;
  }

  async yieldNow(): Promise<void> {
    this.stride = Math.max(1, Math.min(MAX_STRIDE, Math.floor(this.processedInSlice / 16)));
    this.processedInSlice = 0;
    await yieldToEventLoop();
    this.lastYield = Date.now();
  }

  /**
   * Processes records until the current batch is done (true; its credit goes back) or the
   * time slice is used up (false).
   */
  run(): boolean {
    if (!this.current) {
      const next = this.replay.shift();
      if (!next) return true;
      this.current = { records: next, next: 0 };
    }
    const current = this.current;
    this.processedInSlice += this.runBatch(current, this.usedUp, this.stride);
    if (current.next < current.records.length) return false;
    this.current = undefined;
    current.channel?.returnCredit(1);
    return this.replay.length === 0;
  }

  /** Records taken in but not processed yet, as one batch: in-flight data of an unaligned checkpoint. */
  unprocessed(): Buffer | undefined {
    const rest: unknown[] = [];
    if (this.current) rest.push(...this.current.records.slice(this.current.next));
    for (const batch of this.replay) rest.push(...batch);
    return rest.length > 0 ? this.encode(rest) : undefined;
  }
}

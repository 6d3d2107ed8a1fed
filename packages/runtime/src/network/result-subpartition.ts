import { batchBytes, type ChannelItem, type SubpartitionConsumer } from './events';

/**
 * The producer side of one channel. A batch is sent only against a credit from the
 * consumer (one credit = one batch it has room for); events need no credit but stay in
 * order behind the batches queued before them. Undelivered batches are the backlog that
 * backpressures the producing task.
 */
export class ResultSubpartition {
  private readonly queue: ChannelItem[] = [];
  private consumer?: SubpartitionConsumer;
  private credit = 0;
  private backlogBatches = 0;
  released = false;
  /** The consumer has received end-of-partition: nothing more will be asked of this one. */
  finished = false;
  /** Batch size in bytes the consumer asked for (buffer debloating); 0 when it asked nothing. */
  batchBytes = 0;
  /** The consumer runs in this slot's thread: batches go to it as records, not bytes. */
  local = false;

  constructor(private readonly onBacklogChange: () => void) {}

  add(item: ChannelItem): void {
    if (this.released) return;
    this.queue.push(item);
    if (item.kind === 'batch') this.backlogBatches++;
    this.drain();
  }

  attach(consumer: SubpartitionConsumer, initialCredit: number, local = false): void {
    this.consumer = consumer;
    this.local = local;
    this.credit = initialCredit;
    this.drain();
  }

  /**
   * Unaligned checkpoint: the barrier goes before every batch still queued here, and those
   * batches are returned to be stored with the checkpoint (they are sent on, too: the
   * consumer's state will not have seen them when it snapshots at the barrier).
   */
  addPriorityBarrier(checkpointId: number, timestamp: number): Buffer[] {
    if (this.released) return [];
    const overtaken = this.queue.flatMap((item) => (item.kind === 'batch' ? [batchBytes(item)] : []));
    this.queue.unshift({ kind: 'barrier', checkpointId, timestamp, unaligned: true });
    this.drain();
    return overtaken;
  }

  addCredit(n: number): void {
    this.credit += n;
    this.drain();
  }

  get backlog(): number {
    return this.backlogBatches;
  }

  isAttached(): boolean {
    return this.consumer !== undefined;
  }

  private drain(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    let delivered = false;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head.kind === 'batch') {
        if (this.credit <= 0) break;
        this.credit--;
        this.backlogBatches--;
        delivered = true;
      }
      this.queue.shift();
      if (head.kind === 'end') this.finished = true;
      consumer.deliver(head);
    }
    if (delivered) this.onBacklogChange();
  }

  /** Drops everything: the consumer went away or the task was cancelled. */
  release(): void {
    this.released = true;
    this.queue.length = 0;
    this.backlogBatches = 0;
    this.consumer = undefined;
    this.onBacklogChange();
  }
}

import { describeError, faultPoint, taskName, type AcknowledgeCheckpoint, type DeclineCheckpoint, type Logger, type StateHandle, type TaskRef, type Termination } from '@weir/core';
import type { CheckpointIdCounter } from './checkpoint-id-counter';
import type { CheckpointStatsTracker } from './checkpoint-stats';
import type { CompletedCheckpoint, CompletedCheckpointStore } from './completed-store';
import { PendingCheckpoint, type SavepointOptions } from './pending-checkpoint';
import { writeSavepoint } from './savepoint-store';

export interface CheckpointSettings {
  intervalMs: number;
  timeoutMs: number;
  minPauseMs: number;
  maxConcurrent: number;
  tolerableFailures: number;
}

/** What the coordinator needs from the job: its tasks, and a way to reach them. */
export interface CheckpointParticipants {
  /** Tasks of the current attempt, or undefined while any of them is not running. */
  runningTasks(): { attempt: number; sources: TaskRef[]; all: TaskRef[] } | undefined;
  /** Tasks of the current attempt that are still alive, whatever their state. */
  currentTasks(): TaskRef[];
  trigger(task: TaskRef, checkpointId: number, timestamp: number, final: boolean, savepoint?: SavepointOptions): void;
  notify(task: TaskRef, checkpointId: number, completed: boolean, options?: { savepoint?: boolean; termination?: Termination }): void;
  /** A checkpoint or savepoint completed (with its path) or failed (with the reason). */
  settled?(outcome: { id: number; path?: string; failure?: string }): void;
  /** More consecutive failures than tolerated: the job must fail over. */
  failJob(reason: string): void;
}

/**
 * Triggers checkpoints at the interval, collects acknowledgements, completes a checkpoint
 * when every task of the attempt has acknowledged it, and aborts one that is declined or
 * times out. Acknowledgements from another attempt or for an aborted checkpoint are ignored.
 */
export class CheckpointCoordinator {
  private readonly pending = new Map<number, PendingCheckpoint>();
  /** Acknowledged by every task, its metadata being written; settles when written or failed. */
  private readonly completing = new Map<number, Promise<void>>();
  private timer?: ReturnType<typeof setTimeout>;
  private running = false;
  private lastCompletionAt = Number.NEGATIVE_INFINITY;
  private consecutiveFailures = 0;
  private finalRequested = false;

  constructor(
    private readonly settings: CheckpointSettings,
    private readonly participants: CheckpointParticipants,
    private readonly store: CompletedCheckpointStore,
    readonly stats: CheckpointStatsTracker,
    private readonly log: Logger,
    private readonly ids: CheckpointIdCounter,
    private readonly now: () => number = Date.now,
  ) {}

  get periodic(): boolean {
    return this.settings.intervalMs > 0;
  }

  start(): void {
    if (this.running || !this.periodic) return;
    this.running = true;
    this.schedule(this.settings.intervalMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Waits until no checkpoint is between its last acknowledgement and its completion. A
   * restart must not pick its checkpoint before then: the new attempt's sinks would discard
   * the pending files of a checkpoint that completes a moment later, and a second failure
   * would then restore a checkpoint whose files are gone.
   */
  async settled(): Promise<void> {
    while (this.completing.size > 0) await Promise.allSettled([...this.completing.values()]);
  }

  latestCompleted(): CompletedCheckpoint | undefined {
    return this.store.latest();
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, delayMs));
  }

  private onTimer(): void {
    this.timer = undefined;
    const sinceLast = this.now() - this.lastCompletionAt;
    if (this.pending.size + this.completing.size >= this.settings.maxConcurrent) return this.schedule(this.settings.intervalMs);
    if (sinceLast < this.settings.minPauseMs) return this.schedule(this.settings.minPauseMs - sinceLast);
    this.triggerCheckpoint(false);
    this.schedule(this.settings.intervalMs);
  }

  /** Returns the new checkpoint's id, or undefined when it could not be triggered now. */
  triggerCheckpoint(final: boolean, savepoint?: SavepointOptions): number | undefined {
    const tasks = this.participants.runningTasks();
    // Not every task is running (deploying, restarting): skip, and that is no failure.
    if (!tasks) return undefined;
    let id: number;
    try {
      id = this.ids.take();
    } catch (err) {
      this.log.error({ err: describeError(err) }, 'cannot record the next checkpoint id durably; not triggering');
      this.onFailure(`cannot record the next checkpoint id: ${describeError(err)}`);
      return undefined;
    }
    const timestamp = this.now();
    const names = tasks.all.map((t) => taskName(t.vertex_id, t.subtask, t.attempt));
    const checkpoint = new PendingCheckpoint(id, tasks.attempt, timestamp, names, final, savepoint);
    this.pending.set(id, checkpoint);
    this.stats.triggered(id, timestamp, names.length, final, !!savepoint);
    checkpoint.timeout = setTimeout(() => {
      const missing = [...checkpoint.notYetAcknowledged];
      this.abort(id, `checkpoint ${id} expired after ${this.settings.timeoutMs} ms before every task acknowledged it`, missing.join(', '), true);
    }, this.settings.timeoutMs);
    this.log.info({ checkpointId: id, final, savepoint: !!savepoint, tasks: names.length }, 'triggering checkpoint');
    for (const source of tasks.sources) this.participants.trigger(source, id, timestamp, final, savepoint);
    void faultPoint('jm.checkpoint.trigger-sent');
    return id;
  }

  /** Bounded sources ended: take one more checkpoint so committing sinks commit everything. */
  requestFinalCheckpoint(): void {
    this.finalRequested = true;
    if ([...this.pending.values()].some((p) => p.final)) return;
    if (this.triggerCheckpoint(true) === undefined) setTimeout(() => this.retryFinal(), 100);
  }

  private retryFinal(): void {
    if (this.finalRequested && ![...this.pending.values()].some((p) => p.final)) this.requestFinalCheckpoint();
  }

  async receiveAck(ack: AcknowledgeCheckpoint): Promise<void> {
    const checkpoint = this.pending.get(ack.checkpoint_id);
    const name = taskName(ack.task.vertex_id, ack.task.subtask, ack.task.attempt);
    if (!checkpoint || checkpoint.attempt !== ack.task.attempt || !checkpoint.acknowledge(name, ack)) {
      this.log.debug({ checkpointId: ack.checkpoint_id, task: name }, 'ignoring stale acknowledgement');
      const known = this.completing.has(ack.checkpoint_id) || this.store.all().some((c) => c.id === ack.checkpoint_id);
      if (!checkpoint && !known) void this.store.discardHandles(ack.handles, ack.checkpoint_id);
      return;
    }
    this.stats.acknowledged(ack.checkpoint_id, {
      task: name, acknowledged_at: ack.acknowledged_at, sync_duration_ms: ack.sync_duration_ms, async_duration_ms: ack.async_duration_ms,
      alignment_duration_ms: ack.alignment_duration_ms, state_size: ack.state_size,
      checkpointed_size: ack.checkpointed_size || ack.state_size,
      start_delay_ms: ack.start_delay_ms ?? 0, persisted_data_bytes: ack.persisted_data_bytes ?? 0, unaligned: !!ack.unaligned,
      put_count: ack.put_count ?? 0, bytes_written: ack.bytes_written ?? 0,
    });
    await faultPoint('jm.ack.received');
    if (checkpoint.isComplete() && this.pending.get(checkpoint.id) === checkpoint) {
      const done = this.complete(checkpoint);
      this.completing.set(checkpoint.id, done);
      try {
        await done;
      } finally {
        this.completing.delete(checkpoint.id);
      }
    }
  }

  receiveDecline(decline: DeclineCheckpoint): void {
    const checkpoint = this.pending.get(decline.checkpoint_id);
    if (!checkpoint || checkpoint.attempt !== decline.task.attempt) return;
    const name = taskName(decline.task.vertex_id, decline.task.subtask, decline.task.attempt);
    this.abort(decline.checkpoint_id, `declined by ${name}: ${decline.reason}`, name, true);
  }

  private async complete(checkpoint: PendingCheckpoint): Promise<void> {
    this.pending.delete(checkpoint.id);
    if (checkpoint.timeout) clearTimeout(checkpoint.timeout);
    const handles: Record<string, StateHandle[]> = {};
    for (const ack of checkpoint.acks.values()) (handles[ack.task.vertex_id] ??= []).push(...ack.handles);
    let completed: CompletedCheckpoint;
    let cost: { puts: number; bytes: number };
    try {
      const data = { id: checkpoint.id, triggeredAt: checkpoint.triggeredAt, completedAt: this.now(), final: checkpoint.final, handles };
      if (checkpoint.savepoint) {
        ({ metadata: completed, cost } = await writeSavepoint({ ...data, jobId: this.store.jobId, vertices: this.store.vertices }, checkpoint.savepoint.targetDir, this.store.jobDirectory));
      } else {
        completed = await this.store.add(data);
        cost = this.store.lastCommitCost; // this checkpoint's `_metadata`
      }
    } catch (err) {
      const reason = `writing metadata failed: ${describeError(err)}`;
      this.log.warn({ checkpointId: checkpoint.id, reason }, 'checkpoint failed');
      this.stats.failed(checkpoint.id, this.now(), reason, '');
      this.participants.settled?.({ id: checkpoint.id, failure: reason });
      // A savepoint's files are still in the checkpoint directory: remove them.
      if (checkpoint.savepoint) void this.store.discardAborted(checkpoint.id);
      for (const t of this.participants.currentTasks()) if (t.attempt === checkpoint.attempt) this.participants.notify(t, checkpoint.id, false);
      if (checkpoint.final) setTimeout(() => this.retryFinal(), 100);
      // A failed savepoint fails alone, never the job (as Flink).
      if (!checkpoint.savepoint) this.onFailure(`checkpoint ${checkpoint.id}: ${reason}`);
      return;
    }
    this.lastCompletionAt = this.now();
    if (!checkpoint.savepoint) this.consecutiveFailures = 0;
    // Older checkpoints still pending can never be restored from after this one: drop them.
    // A savepoint is never restored from on failover, so it subsumes nothing, nor is subsumed.
    for (const older of [...this.pending.values()].filter((p) => p.id < checkpoint.id && !p.final && !p.savepoint && !checkpoint.savepoint)) {
      this.abort(older.id, `subsumed by checkpoint ${checkpoint.id}`, '', false);
    }
    this.stats.metadataWritten(checkpoint.id, cost);
    this.stats.completed(checkpoint.id, this.lastCompletionAt, completed.path);
    this.log.info({ checkpointId: checkpoint.id, savepoint: !!checkpoint.savepoint, durationMs: this.lastCompletionAt - checkpoint.triggeredAt, path: completed.path }, 'checkpoint completed');
    this.participants.settled?.({ id: checkpoint.id, path: completed.path });
    const termination = checkpoint.savepoint?.termination;
    if (termination) this.stop(); // the job ends at this savepoint: no checkpoint after it
    const notice = { savepoint: !!checkpoint.savepoint && !termination, termination };
    for (const task of this.participants.currentTasks()) if (task.attempt === checkpoint.attempt) this.participants.notify(task, checkpoint.id, true, notice);
    await faultPoint('jm.completion.notified');
    if (checkpoint.final) this.finalRequested = false;
  }

  private abort(id: number, reason: string, task: string, countsAsFailure: boolean): void {
    const checkpoint = this.pending.get(id);
    if (!checkpoint) return;
    this.pending.delete(id);
    if (checkpoint.timeout) clearTimeout(checkpoint.timeout);
    this.stats.failed(id, this.now(), reason, task);
    this.participants.settled?.({ id, failure: reason });
    void this.store.discardAborted(id);
    this.log.warn({ checkpointId: id, reason }, 'checkpoint aborted');
    for (const t of this.participants.currentTasks()) if (t.attempt === checkpoint.attempt) this.participants.notify(t, id, false);
    if (checkpoint.final) setTimeout(() => this.retryFinal(), 100);
    // A failed savepoint fails alone, never the job (as Flink).
    if (countsAsFailure && !checkpoint.savepoint) this.onFailure(reason);
  }

  private onFailure(reason: string): void {
    this.consecutiveFailures++;
    if (this.consecutiveFailures > this.settings.tolerableFailures) {
      this.consecutiveFailures = 0;
      this.participants.failJob(`exceeded checkpoint tolerable failure threshold (${this.settings.tolerableFailures}): ${reason}`);
    }
  }

  /**
   * The job fails over: pending checkpoints can't complete; that is not their failure. A
   * final checkpoint asked for by the old attempt's sources is no longer wanted: the new
   * attempt's sources rewind and ask again when they really end. Triggering it for them
   * early would let them finish without a checkpoint covering their last records.
   */
  abortAll(reason: string): void {
    this.finalRequested = false;
    for (const id of [...this.pending.keys()]) this.abort(id, reason, '', false);
  }

  get lastCheckpointId(): number {
    return this.ids.peekLast();
  }

  /** A job started from a savepoint or checkpoint numbers its checkpoints after it, as Flink. */
  continueIdsAfter(id: number): void {
    this.ids.atLeast(id + 1);
  }

  /** A checkpoint or savepoint is pending or writing its metadata: another must wait. */
  get busy(): boolean {
    return this.pending.size + this.completing.size > 0;
  }
}

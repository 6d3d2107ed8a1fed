/**
 * Savepoints, stops and checkpoints a user asks for: each gets a trigger id at once and
 * runs asynchronously (as Flink's REST "async operations"); clients poll its status. A
 * request waits until no checkpoint is in flight (barriers of two snapshots would
 * interleave in the aligner), then is triggered like a checkpoint.
 */
import { randomBytes } from 'node:crypto';
import type { Logger, Termination } from '@weir/core';
import type { CheckpointCoordinator } from './coordinator';

export type TriggerKind = 'SAVEPOINT' | 'STOP' | 'CHECKPOINT';

export interface TriggerStatus {
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  kind: TriggerKind;
  checkpoint_id: number;
  path: string;
  failure_reason: string;
}

const KEPT = 100;
const RETRY_MS = 50;

export class SnapshotTriggers {
  private readonly triggers = new Map<string, TriggerStatus>();
  private readonly byCheckpoint = new Map<number, string>();

  constructor(
    private readonly coordinator: CheckpointCoordinator,
    private readonly jobRunning: () => boolean,
    private readonly startTimeoutMs: number,
    private readonly onSavepoint: (path: string, id: number) => void,
    private readonly log: Logger,
  ) {}

  request(kind: TriggerKind, options: { targetDir?: string; termination?: Termination } = {}): string {
    const triggerId = randomBytes(16).toString('hex');
    const status: TriggerStatus = { status: 'IN_PROGRESS', kind, checkpoint_id: 0, path: '', failure_reason: '' };
    this.triggers.set(triggerId, status);
    while (this.triggers.size > KEPT) this.triggers.delete(this.triggers.keys().next().value as string);
    const deadline = Date.now() + this.startTimeoutMs;
    const attempt = () => {
      if (!this.jobRunning()) return this.fail(status, 'the job stopped running before the snapshot could be triggered');
      const id = this.coordinator.busy
        ? undefined
        : this.coordinator.triggerCheckpoint(false, kind === 'CHECKPOINT' ? undefined : { targetDir: options.targetDir ?? '', termination: options.termination ?? '' });
      if (id !== undefined) {
        status.checkpoint_id = id;
        this.byCheckpoint.set(id, triggerId);
        return;
      }
      if (Date.now() > deadline) return this.fail(status, `could not be triggered within ${this.startTimeoutMs} ms: tasks were not all running or a checkpoint stayed in progress`);
      setTimeout(attempt, RETRY_MS);
    };
    attempt();
    this.log.info({ triggerId, kind, targetDir: options.targetDir }, 'snapshot requested');
    return triggerId;
  }

  /** From the coordinator: the checkpoint behind a trigger completed or failed. */
  onSettled(outcome: { id: number; path?: string; failure?: string }): void {
    const triggerId = this.byCheckpoint.get(outcome.id);
    const status = triggerId ? this.triggers.get(triggerId) : undefined;
    if (!status || status.status !== 'IN_PROGRESS') return;
    this.byCheckpoint.delete(outcome.id);
    if (outcome.path !== undefined) {
      status.status = 'COMPLETED';
      status.path = outcome.path;
      if (status.kind !== 'CHECKPOINT') this.onSavepoint(outcome.path, outcome.id);
    } else {
      this.fail(status, outcome.failure ?? 'failed');
    }
  }

  get(triggerId: string): TriggerStatus | undefined {
    return this.triggers.get(triggerId);
  }

  private fail(status: TriggerStatus, reason: string): void {
    status.status = 'FAILED';
    status.failure_reason = reason;
    this.log.warn({ kind: status.kind, checkpointId: status.checkpoint_id, reason }, 'snapshot failed');
  }
}

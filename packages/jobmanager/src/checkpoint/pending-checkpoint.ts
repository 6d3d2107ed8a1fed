import type { AcknowledgeCheckpoint, Termination } from '@weir/core';

/** A savepoint is a checkpoint written to its own directory; a stop-with-savepoint ends the job. */
export interface SavepointOptions {
  targetDir: string;
  termination: Termination;
}

/** A triggered checkpoint waiting for every task of the attempt to acknowledge it. */
export class PendingCheckpoint {
  readonly acks = new Map<string, AcknowledgeCheckpoint>();
  readonly notYetAcknowledged: Set<string>;
  timeout?: ReturnType<typeof setTimeout>;

  constructor(
    readonly id: number,
    readonly attempt: number,
    readonly triggeredAt: number,
    readonly taskNames: string[],
    readonly final: boolean,
    readonly savepoint?: SavepointOptions,
  ) {
    this.notYetAcknowledged = new Set(taskNames);
  }

  /** Returns false for a task this checkpoint does not wait for (stale or duplicate). */
  acknowledge(taskName: string, ack: AcknowledgeCheckpoint): boolean {
    if (!this.notYetAcknowledged.delete(taskName)) return false;
    this.acks.set(taskName, ack);
    return true;
  }

  isComplete(): boolean {
    return this.notYetAcknowledged.size === 0;
  }
}

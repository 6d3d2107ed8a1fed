import type { AcknowledgeCheckpoint, TaskRef } from '@weir/core';

/** What a task tells the JobManager (through its slot and TaskManager). */
export interface TaskEvents {
  /** `errorKind` is the WeirError kind of a failure that no restart can fix: "checkpoint" or "state" (damaged state), "config" (see task-failure.ts). */
  state(task: TaskRef, state: 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED', error?: string, errorKind?: string): void;
  ack(ack: AcknowledgeCheckpoint): void;
  decline(task: TaskRef, checkpointId: number, reason: string): void;
  sourceExhausted(task: TaskRef): void;
}

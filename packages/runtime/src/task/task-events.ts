import type { AcknowledgeCheckpoint, TaskRef } from '@weir/core';

/** What a task tells the JobManager (through its slot and TaskManager). */
export interface TaskEvents {
  /** `nonRecoverable`: a configuration error, which no restart can fix (see task-failure.ts). */
  state(task: TaskRef, state: 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED', error?: string, nonRecoverable?: boolean): void;
  ack(ack: AcknowledgeCheckpoint): void;
  decline(task: TaskRef, checkpointId: number, reason: string): void;
  sourceExhausted(task: TaskRef): void;
}

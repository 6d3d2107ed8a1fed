import type { AcknowledgeCheckpoint, TaskRef } from '@weir/core';

/** What a task tells the JobManager (through its slot and TaskManager). */
export interface TaskEvents {
  state(task: TaskRef, state: 'RUNNING' | 'FINISHED' | 'CANCELED' | 'FAILED', error?: string): void;
  ack(ack: AcknowledgeCheckpoint): void;
  decline(task: TaskRef, checkpointId: number, reason: string): void;
  sourceExhausted(task: TaskRef): void;
}

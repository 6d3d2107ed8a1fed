import { JobError } from '@weir/core';

/** A job's lifecycle, as Flink's JobStatus; one function moves it and rejects illegal moves. */
export type JobState = 'CREATED' | 'RUNNING' | 'RESTARTING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED' | 'FINISHED';

const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  CREATED: ['RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED'],
  RUNNING: ['FINISHED', 'FAILING', 'RESTARTING', 'FAILED', 'CANCELLING'],
  FAILING: ['RESTARTING', 'FAILED', 'CANCELLING'],
  RESTARTING: ['RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'CREATED'],
  CANCELLING: ['CANCELED'],
  FAILED: [],
  CANCELED: [],
  FINISHED: [],
};

export function isTerminal(state: JobState): boolean {
  return state === 'FAILED' || state === 'CANCELED' || state === 'FINISHED';
}

export function checkTransition(jobId: string, from: JobState, to: JobState): void {
  if (!TRANSITIONS[from].includes(to)) throw new JobError(`job ${jobId}: illegal state change ${from} -> ${to}`);
}

/** A subtask's execution attempt, as Flink's ExecutionState. */
export type ExecutionState = 'CREATED' | 'DEPLOYING' | 'RUNNING' | 'FINISHED' | 'CANCELING' | 'CANCELED' | 'FAILED';

export function isExecutionTerminal(state: ExecutionState): boolean {
  return state === 'FINISHED' || state === 'CANCELED' || state === 'FAILED';
}

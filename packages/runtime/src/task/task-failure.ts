import { describeError, permissionProblem, WeirError } from '@weir/core';
import { failureCause } from './failure-cause';

/** What the JobManager is told about a failed task. */
export interface TaskFailure {
  message: string;
  /** A configuration error (kind "config"): restarting the job cannot fix it. */
  nonRecoverable: boolean;
}

/**
 * A task's error as the JobManager should see it. Configuration errors, a refused write
 * among them, are one line and not worth a restart (as Flink's SuppressRestartsException);
 * anything else keeps its frames (the job's own, source-mapped, where there are some) and
 * goes to the restart strategy.
 */
export function taskFailure(err: unknown): TaskFailure {
  const problem = permissionProblem(err) ?? err;
  if ((problem as { kind?: unknown } | undefined)?.kind === 'config') return { message: describeError(problem), nonRecoverable: true };
  // A WeirError's message is complete (operator, field, fix); its stack is Weir's, not the job's.
  return { message: err instanceof WeirError ? err.message : failureCause(err), nonRecoverable: false };
}

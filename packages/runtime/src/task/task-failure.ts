import { describeError, permissionProblem } from '@weir/core';

/** What the JobManager is told about a failed task. */
export interface TaskFailure {
  message: string;
  /** A configuration error (kind "config"): restarting the job cannot fix it. */
  nonRecoverable: boolean;
}

/**
 * A task's error as the JobManager should see it. Configuration errors, a refused write
 * among them, are one line and not worth a restart (as Flink's SuppressRestartsException);
 * anything else keeps a few stack frames and goes to the restart strategy.
 */
export function taskFailure(err: unknown): TaskFailure {
  const problem = permissionProblem(err) ?? err;
  if ((problem as { kind?: unknown } | undefined)?.kind === 'config') return { message: describeError(problem), nonRecoverable: true };
  const stack = err instanceof Error && err.stack ? `\n${err.stack.split('\n').slice(1, 6).join('\n')}` : '';
  return { message: describeError(err) + stack, nonRecoverable: false };
}

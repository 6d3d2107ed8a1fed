import { describeError, permissionProblem, WeirError } from '@weir/core';
import type { JobSourceMap } from '../job-source-map';
import { failureCause } from './failure-cause';

/** What the JobManager is told about a failed task. */
export interface TaskFailure {
  message: string;
  /**
   * A kind no restart can fix, or '' for anything the restart strategy should see:
   * "config" (a refused write, a bad setting) or "checkpoint" / "state" (damaged state).
   */
  kind: '' | 'config' | 'checkpoint' | 'state';
}

/**
 * A task's error as the JobManager should see it. Configuration errors, a refused write
 * among them, are one line and not worth a restart (as Flink's SuppressRestartsException);
 * damaged checkpoint state is not either, and its message names the file. Anything else
 * keeps its frames (the job's own, source-mapped, where there are some) and goes to the
 * restart strategy.
 */
export function taskFailure(err: unknown, sourceMap?: JobSourceMap): TaskFailure {
  const problem = permissionProblem(err) ?? err;
  if ((problem as { kind?: unknown } | undefined)?.kind === 'config') return { message: describeError(problem), kind: 'config' };
  if (err instanceof WeirError && (err.kind === 'checkpoint' || err.kind === 'state')) return { message: describeError(err), kind: err.kind };
  // A WeirError's message is complete (operator, field, fix); its stack is Weir's, not the job's.
  return { message: err instanceof WeirError ? err.message : failureCause(err, { sourceMap }), kind: '' };
}

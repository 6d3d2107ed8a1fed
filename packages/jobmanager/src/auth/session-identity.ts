/**
 * Identity, not claims: a TaskManager speaks only for the task attempts the JobManager
 * deployed to it, and the state files it names must lie in that checkpoint's directory.
 */
import type { AcknowledgeCheckpoint, StateHandle, TaskRef } from '@weir/core';
import { checkpointDirectory, isWithinJobDirectory, sharedDirectory } from '@weir/runtime';
import type { Dispatcher } from '../dispatcher';
import type { JobMaster } from '../scheduler/job-master';

/** The job, when the task is of its current attempt and runs on this TaskManager. */
export function jobOfOwnTask(dispatcher: Dispatcher, taskmanagerId: string, task: TaskRef | undefined): JobMaster | undefined {
  if (!task) return undefined;
  const job = dispatcher.jobs.get(task.job_id);
  const execution = job?.graph?.get(task);
  return execution && execution.taskmanagerId === taskmanagerId ? job : undefined;
}

/** The job, when one of its current tasks runs on this TaskManager (for job-level messages such as printed output). */
export function jobRunningOn(dispatcher: Dispatcher, taskmanagerId: string, jobId: string | undefined): JobMaster | undefined {
  const job = jobId ? dispatcher.jobs.get(jobId) : undefined;
  return job?.graph?.all().some((e) => e.taskmanagerId === taskmanagerId) ? job : undefined;
}

/**
 * Who may acknowledge: the owner of a current task; for an older attempt any registered
 * TaskManager, since the coordinator only drops such an acknowledgement (and its files).
 * Either way every handle must lie under `<checkpoints>/<job>/chk-<id>/` or under
 * `<checkpoints>/<job>/shared/` (incremental checkpoints name files of earlier ones there),
 * as a path or an s3:// key, or carry its state inline with no path at all.
 */
export function acceptAcknowledgement(dispatcher: Dispatcher, taskmanagerId: string, ack: AcknowledgeCheckpoint): JobMaster | undefined {
  const job = dispatcher.jobs.get(ack.task?.job_id);
  if (!job?.graph) return undefined;
  const stale = ack.task.attempt < job.graph.attempt;
  if (!stale && !jobOfOwnTask(dispatcher, taskmanagerId, ack.task)) return undefined;
  const dir = checkpointDirectory(job.checkpointDir, job.jobId, ack.checkpoint_id);
  const shared = sharedDirectory(job.checkpointDir, job.jobId);
  return (ack.handles ?? []).every((h) => isInline(h) || isWithinJobDirectory(dir, h.path) || isWithinJobDirectory(shared, h.path)) ? job : undefined;
}

function isInline(handle: StateHandle): boolean {
  return handle.path === '' && !!handle.inline_data && handle.inline_data.length > 0;
}

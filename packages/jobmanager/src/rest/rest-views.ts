import { CONFIG_OPTIONS, type Configuration } from '@weir/core';
import type { CheckpointStats } from '../checkpoint/checkpoint-stats';
import { checkpointSubtaskRows } from '../checkpoint/checkpoint-details';
import type { Dispatcher } from '../dispatcher';
import type { ResourceManager } from '../resource-manager';
import type { JobMaster } from '../scheduler/job-master';
import { checkpointsView, listedJobs, taskmanagersView } from '../views';

/**
 * Shapes only the REST API returns. They are built from views.ts, which gRPC uses too, so
 * `weir checkpoints --json` and `/jobs/:id/checkpoints` count the same checkpoints.
 */
export const WEIR_VERSION = '0.1.0';

export function overviewView(dispatcher: Dispatcher, rm: ResourceManager) {
  const jobs = [...dispatcher.jobs.values()];
  const count = (...states: string[]) => jobs.filter((j) => states.includes(j.state)).length;
  return {
    weir_version: WEIR_VERSION,
    taskmanagers: rm.list().length,
    slots_total: rm.totalSlots(),
    slots_available: rm.freeSlots(),
    jobs_running: count('CREATED', 'RUNNING', 'RESTARTING', 'FAILING', 'CANCELLING'),
    jobs_finished: count('FINISHED'),
    jobs_failed: count('FAILED'),
    jobs_cancelled: count('CANCELED'),
  };
}

export function jobsView(dispatcher: Dispatcher) {
  return { jobs: listedJobs(dispatcher) };
}

function minAvgMax(values: number[]) {
  if (values.length === 0) return { min: 0, avg: 0, max: 0 };
  return { min: Math.min(...values), avg: Math.round(values.reduce((a, b) => a + b, 0) / values.length), max: Math.max(...values) };
}

/** A history entry without its per-task rows, which `/checkpoints/details/:id` has. */
function historyEntry(s: CheckpointStats) {
  const { tasks: _tasks, ...rest } = s;
  return rest;
}

/**
 * Flink's checkpointing statistics: counts, min/avg/max over the completed checkpoints
 * still in the history (the tracker keeps the latest 1000), latest ones, and the history,
 * newest first (`limit` keeps only the newest entries).
 */
export function checkpointsRestView(job: JobMaster, limit?: number) {
  const v = checkpointsView(job);
  const completed = v.history.filter((h) => h.status === 'COMPLETED');
  return {
    counts: { completed: v.completed, failed: v.failed, in_progress: v.in_progress, restored: v.restored, total: v.completed + v.failed + v.in_progress },
    summary: {
      end_to_end_duration_ms: minAvgMax(completed.map((h) => h.end_to_end_duration_ms)),
      state_size: minAvgMax(completed.map((h) => h.state_size)),
      checkpointed_size: minAvgMax(completed.map((h) => h.checkpointed_size ?? h.state_size)),
      alignment_ms: minAvgMax(completed.map((h) => h.max_alignment_ms)),
    },
    latest: {
      completed: v.latest_completed ? historyEntry(v.latest_completed) : null,
      failed: v.latest_failed ? historyEntry(v.latest_failed) : null,
      restored: v.latest_restored_id ? { id: v.latest_restored_id, restore_timestamp: v.latest_restored_timestamp } : null,
      savepoint: v.latest_savepoint ? historyEntry(v.latest_savepoint) : null,
    },
    interval_ms: job.submission.config.getOptionalNumber('execution.checkpointing.interval') ?? 0,
    history: (limit === undefined ? v.history : v.history.slice(0, limit)).map(historyEntry),
  };
}

export function checkpointDetailsView(job: JobMaster, checkpointId: number) {
  const s = job.coordinator.stats.get(checkpointId);
  if (!s) return undefined;
  const subtasks = checkpointSubtaskRows(s);
  // `tasks` keeps its old shape for existing clients; `subtasks` has the per-subtask rows.
  return {
    ...historyEntry(s),
    tasks: [...s.tasks].sort((a, b) => a.task.localeCompare(b.task)),
    subtasks,
    critical_path_task: subtasks.find((r) => r.critical_path)?.task ?? null,
  };
}

/** Failures of the job's attempts, newest first; each names its task and TaskManager. */
export function exceptionsView(job: JobMaster) {
  const exceptions = [...job.exceptions].sort((a, b) => b.timestamp - a.timestamp);
  return {
    root_exception: exceptions[0]?.root_cause ?? '',
    timestamp: exceptions[0]?.timestamp ?? 0,
    failure_cause: job.failureCause,
    restarts: job.restarts,
    exceptions,
  };
}

export function taskmanagersRestView(rm: ResourceManager) {
  return { taskmanagers: taskmanagersView(rm) };
}

/** Every configuration key that has a value, and whether it is the default. */
export function configView(config: Configuration) {
  const entries = CONFIG_OPTIONS.flatMap((o) => {
    const value = config.get(o.key);
    return value === undefined ? [] : [{ key: o.key, value: o.secret ? '(set, hidden)' : String(value), is_default: !config.has(o.key) }];
  });
  return { weir_version: WEIR_VERSION, entries };
}

import type { Dispatcher } from './dispatcher';
import type { JobMaster } from './scheduler/job-master';
import type { ResourceManager } from './resource-manager';

/** The JobManager's data as clients see it; gRPC and the REST API share these shapes. */
export function jobSummary(job: JobMaster) {
  return {
    job_id: job.jobId,
    name: job.submission.graph.name,
    state: job.state,
    start_time: job.submission.submittedAt,
    end_time: job.endTime,
    parallelism: Math.max(...job.submission.graph.vertices.map((v) => v.parallelism)),
    restarts: job.restarts,
  };
}

/** The jobs of this JobManager, newest first, as both `weir list` and REST `/jobs` list them. */
export function listedJobs(dispatcher: Dispatcher, includeArchived = false) {
  const masters = [...dispatcher.jobs.values(), ...(includeArchived ? dispatcher.archived.values() : [])];
  return masters.map(jobSummary).sort((a, b) => b.start_time - a.start_time || a.job_id.localeCompare(b.job_id));
}

export function jobDetails(job: JobMaster) {
  const executions = job.graph?.all() ?? [];
  return {
    summary: jobSummary(job),
    vertices: job.submission.graph.vertices.map((v) => {
      const subtasks = executions.filter((e) => e.ref.vertex_id === v.id);
      const states = new Set(subtasks.map((s) => s.state));
      return {
        id: v.id,
        name: v.name,
        parallelism: v.parallelism,
        state: states.size === 1 ? [...states][0] : [...states].join('/'),
        subtasks: subtasks.map((e) => ({
          subtask: e.ref.subtask, state: e.state, taskmanager_id: e.taskmanagerId ?? '', attempt: e.ref.attempt, records_in: e.recordsIn, records_out: e.recordsOut,
        })),
      };
    }),
    edges: job.submission.graph.edges,
    failure_cause: job.failureCause,
    last_restore_timestamp: job.lastRestore.timestamp,
    last_restore_checkpoint_id: job.lastRestore.checkpointId,
    last_restore_path: job.lastRestore.path,
    exceptions: job.exceptions,
    attempt: job.currentAttempt,
    last_savepoint_path: job.lastSavepoint,
    restored_from: job.submission.config.getOptionalString('execution.savepoint.path') ?? '',
    last_restore_checkpoint_timestamp: job.lastRestore.checkpointTimestamp,
    restart_timestamps: job.restartTimestamps,
  };
}

export function checkpointsView(job: JobMaster) {
  const stats = job.coordinator.stats;
  const history = stats.list();
  return {
    completed: stats.counts.completed,
    failed: stats.counts.failed,
    in_progress: stats.counts.in_progress,
    restored: stats.counts.restored,
    // A savepoint is never restored from on failover: "latest completed" is a checkpoint.
    latest_completed: history.find((h) => h.status === 'COMPLETED' && !h.is_savepoint),
    latest_savepoint: history.find((h) => h.status === 'COMPLETED' && h.is_savepoint),
    latest_failed: history.find((h) => h.status === 'FAILED'),
    history,
    latest_restored_id: stats.latestRestored.id,
    latest_restored_timestamp: stats.latestRestored.timestamp,
  };
}

export function taskmanagersView(rm: ResourceManager) {
  return rm.list().map((tm) => ({
    id: tm.id,
    host: tm.host,
    slots: tm.slots.length,
    free_slots: tm.slots.filter((s) => !s.jobId).length,
    last_heartbeat: tm.lastHeartbeat,
    registered_at: tm.registeredAt,
    metrics_port: tm.metricsPort,
    pid: tm.pid,
  }));
}

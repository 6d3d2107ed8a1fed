import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Dispatcher } from '../dispatcher';
import type { ResourceManager } from '../resource-manager';
import type { JobMaster } from '../scheduler/job-master';

const JOB_LABELS = ['job_id', 'job_name'] as const;

/**
 * The JobManager's Prometheus metrics: Flink's job and checkpoint metrics under their
 * Prometheus-style names, plus cluster gauges and the default process metrics. Nothing is
 * updated on the hot path: every gauge reads the current state when it is scraped.
 */
export function createJobManagerMetrics(dispatcher: Dispatcher, rm: ResourceManager): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const jobs = () => [...dispatcher.jobs.values()];
  const labels = (job: JobMaster) => ({ job_id: job.jobId, job_name: job.submission.graph.name });
  /** A per-job gauge; jobs that are gone drop out because every scrape starts afresh. */
  const jobGauge = (name: string, help: string, value: (job: JobMaster) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: JOB_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const job of jobs()) {
          const v = value(job);
          if (v !== undefined) this.set(labels(job), v);
        }
      },
    });
  const lastCompleted = (job: JobMaster) => job.coordinator.stats.list().find((h) => h.status === 'COMPLETED');

  jobGauge('weir_job_number_of_completed_checkpoints', 'Completed checkpoints of the job (Flink: numberOfCompletedCheckpoints).', (j) => j.coordinator.stats.counts.completed);
  jobGauge('weir_job_number_of_failed_checkpoints', 'Failed or aborted checkpoints of the job (Flink: numberOfFailedCheckpoints).', (j) => j.coordinator.stats.counts.failed);
  jobGauge('weir_job_number_of_in_progress_checkpoints', 'Checkpoints in progress (Flink: numberOfInProgressCheckpoints).', (j) => j.coordinator.stats.counts.in_progress);
  jobGauge('weir_job_total_number_of_checkpoints', 'Checkpoints triggered (Flink: totalNumberOfCheckpoints).', (j) => {
    const c = j.coordinator.stats.counts;
    return c.completed + c.failed + c.in_progress;
  });
  jobGauge('weir_job_last_checkpoint_duration_seconds', 'End-to-end duration of the latest completed checkpoint (Flink: lastCheckpointDuration).', (j) => {
    const c = lastCompleted(j);
    return c && c.end_to_end_duration_ms / 1000;
  });
  jobGauge('weir_job_last_checkpoint_size_bytes', 'State size of the latest completed checkpoint (Flink: lastCheckpointSize).', (j) => lastCompleted(j)?.state_size);
  jobGauge('weir_job_checkpoint_alignment_time_seconds', 'Longest barrier alignment of any task in the latest completed checkpoint (Flink: checkpointAlignmentTime).', (j) => {
    const c = lastCompleted(j);
    return c && c.max_alignment_ms / 1000;
  });
  jobGauge('weir_job_last_checkpoint_restore_timestamp_seconds', 'When the job was last restored from a checkpoint, Unix time; 0 if never (Flink: lastCheckpointRestoreTimestamp).', (j) =>
    j.coordinator.stats.latestRestored.timestamp / 1000);
  jobGauge('weir_job_last_checkpoint_restored_id', 'Id of the checkpoint the job was last restored from; 0 if never.', (j) => j.coordinator.stats.latestRestored.id);
  jobGauge('weir_job_checkpoint_stats_write_failures', 'Checkpoint statistics records that could not be written to the job store (each is also logged).', (j) => j.statsLog?.writeFailures ?? 0);
  jobGauge('weir_job_num_restarts', 'Restarts of the job since submission (Flink: numRestarts).', (j) => j.restarts);
  jobGauge('weir_job_uptime_seconds', 'Time since the job was submitted, while it is not finished (Flink: uptime).', (j) => (j.endTime ? undefined : (Date.now() - j.submission.submittedAt) / 1000));

  new Gauge({
    name: 'weir_jobmanager_jobs',
    help: 'Jobs known to the JobManager, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const job of jobs()) counts.set(job.state, (counts.get(job.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  new Gauge({ name: 'weir_jobmanager_taskmanagers', help: 'Registered TaskManagers (Flink: numRegisteredTaskManagers).', registers: [registry], collect() { this.set(rm.list().length); } });
  new Gauge({ name: 'weir_jobmanager_slots_total', help: 'Slots of all registered TaskManagers (Flink: taskSlotsTotal).', registers: [registry], collect() { this.set(rm.totalSlots()); } });
  new Gauge({ name: 'weir_jobmanager_slots_available', help: 'Free slots (Flink: taskSlotsAvailable).', registers: [registry], collect() { this.set(rm.freeSlots()); } });
  return registry;
}

import { randomBytes } from 'node:crypto';
import { Configuration, describeError, JobError, MAX_MAX_PARALLELISM, type JobGraph, type Logger } from '@weir/core';
import { readSnapshot, type SnapshotMetadata } from '@weir/runtime';
import type { CheckpointStatsSnapshot } from './checkpoint/checkpoint-stats';
import { checkCompatibility } from './checkpoint/savepoint-compatibility';
import { JobStore, type StoredJob } from './job-store';
import { JobMaster } from './scheduler/job-master';
import { isTerminal } from './scheduler/job-state';
import type { ResourceManager } from './resource-manager';

export function newJobId(): string {
  return randomBytes(16).toString('hex');
}

/** Accepts jobs, keeps one JobMaster per job, and routes TaskManager events to them. */
export class Dispatcher {
  /** This JobManager's jobs: submitted to it, or resumed by it after a restart. */
  readonly jobs = new Map<string, JobMaster>();
  /**
   * Jobs that had already ended under an earlier JobManager, read back from the store. As
   * with Flink's history server, `weir status` still finds them, but they are not listed
   * as this cluster's jobs (`weir list --all` shows them).
   */
  readonly archived = new Map<string, JobMaster>();

  constructor(
    private readonly clusterConfig: Configuration,
    private readonly rm: ResourceManager,
    private readonly store: JobStore,
    private readonly checkpointRoot: string,
    private readonly log: Logger,
  ) {
    rm.on('lost', (tmId: string, reason: string) => {
      for (const job of this.jobs.values()) job.onTaskManagerLost(tmId, reason);
    });
  }

  /**
   * Accepts a job. With execution.savepoint.path it first reads that savepoint (or retained
   * checkpoint) and checks it against the job: an incompatible one is refused with the
   * report, before anything is stored or deployed. A dry run only returns the report.
   */
  async submit(graph: JobGraph, bundle: Buffer, args: string[], submitConfig: Record<string, string>, dryRun = false): Promise<{ jobId: string; report: string }> {
    validateGraph(graph);
    if (!bundle || bundle.length === 0) throw new JobError('the job bundle is empty');
    const limit = this.clusterConfig.getNumber('jobmanager.submission.max-size');
    const size = bundle.length + JSON.stringify(graph).length + JSON.stringify(args ?? []).length;
    if (size > limit) throw new JobError(`the submission is ${size} bytes, above jobmanager.submission.max-size (${limit} bytes)`);
    // Job settings (from env.enableCheckpointing or -D flags) override the cluster's; every key is validated.
    const config = this.clusterConfig.merge(graph.config).merge(submitConfig);
    if (config.get('execution.checkpointing.unaligned.enabled') === true && config.get('execution.checkpointing.mode') !== 'EXACTLY_ONCE') {
      // As in Flink: unaligned checkpoints exist to keep exactly-once cheap under backpressure.
      throw new JobError('execution.checkpointing.unaligned.enabled needs execution.checkpointing.mode EXACTLY_ONCE (AT_LEAST_ONCE does not align barriers at all)');
    }
    const from = config.getOptionalString('execution.savepoint.path');
    let snapshot: SnapshotMetadata | undefined;
    let report = '';
    if (from) {
      snapshot = await readSnapshot(from);
      const check = checkCompatibility(snapshot, graph, { allowNonRestoredState: config.get('execution.savepoint.ignore-unclaimed-state') === true });
      report = check.text;
      if (check.refused) throw new JobError(`the job cannot start from ${snapshot.path}:\n${report}`);
    } else if (dryRun) {
      throw new JobError('--dry-run checks a restore: give the savepoint or checkpoint to start from with -s <path>');
    }
    if (dryRun) return { jobId: '', report };
    const jobId = newJobId();
    const master = this.createMaster(jobId, graph, bundle, args, config, Date.now());
    if (snapshot) master.startFrom(snapshot, this.jobs.get(snapshot.jobId)?.coordinator.lastCheckpointId);
    this.store.saveSubmission(toStored(master), bundle);
    void master.start();
    return { jobId, report };
  }

  private createMaster(jobId: string, graph: JobGraph, bundle: Buffer, args: string[], config: Configuration, submittedAt: number, recovered?: ConstructorParameters<typeof JobMaster>[5]): JobMaster {
    const master = new JobMaster({ jobId, graph, bundle, args, config, submittedAt }, this.rm, this.log, {
      persist: (m) => this.store.save(toStored(m)),
      jobDirectory: this.store.jobDirectory(jobId),
    }, this.checkpointRoot, recovered);
    this.jobs.set(jobId, master);
    return master;
  }

  /** After a JobManager restart: finished jobs are listed again, unfinished ones resume. */
  recover(): void {
    for (const { job, bundle, stats } of this.store.loadAll()) {
      try {
        this.recoverJob(job, bundle, stats);
      } catch (err) {
        // One bad stored job never keeps the JobManager from starting.
        this.log.error({ jobId: job.jobId, err: describeError(err) }, 'cannot recover stored job');
      }
    }
  }

  private recoverJob(job: StoredJob, bundle: Buffer, stats: CheckpointStatsSnapshot | undefined): void {
    let config: Configuration;
    let invalid: string | undefined;
    try {
      config = new Configuration(job.config);
    } catch (err) {
      config = this.clusterConfig;
      invalid = describeError(err);
    }
    try {
      validateGraph(job.graph);
    } catch (err) {
      invalid = describeError(err);
    }
    const graph = invalid ? { ...job.graph, vertices: Array.isArray(job.graph?.vertices) ? job.graph.vertices : [] } : job.graph;
    const master = this.createMaster(job.jobId, graph, bundle, job.args ?? [], config, job.submittedAt, { stats, attempt: job.attempt, restarts: job.restarts, lastRestore: job.lastRestore, lastSavepoint: job.lastSavepoint });
    master.exceptions.push(...(job.exceptions ?? []));
    if (job.restartTimestamps) master.restartTimestamps.push(...job.restartTimestamps);
    if (isTerminal(job.state as never)) {
      this.jobs.delete(job.jobId);
      this.archived.set(job.jobId, master);
      master.state = job.state as never;
      master.failureCause = job.failureCause;
      master.endTime = job.endTime;
      // The JobManager may have died between the end of the job and its retention.
      void master.recoverEnded();
    } else if (invalid) {
      // A job stored before today's limits, or damaged on disk: it fails, alone, with the reason.
      this.log.error({ jobId: job.jobId, reason: invalid }, 'stored job is invalid; failing it');
      master.failStored(`the stored job cannot be resumed: ${invalid}`);
    } else {
      this.log.info({ jobId: job.jobId }, 'resuming job after JobManager restart');
      void master.start(true);
    }
  }

  get(jobId: string): JobMaster {
    const job = this.jobs.get(jobId) ?? this.archived.get(jobId);
    if (!job && this.store.hasRecord(jobId)) throw new JobError(`no job with id ${jobId} in memory: it finished and was pruned (jobstore.max-capacity, jobstore.expiration-time); its record is ${this.store.recordPath(jobId)}`);
    if (!job) throw new JobError(`no job with id ${jobId}`);
    return job;
  }
}

function toStored(m: JobMaster): StoredJob {
  return {
    jobId: m.jobId,
    graph: m.submission.graph,
    args: m.submission.args,
    config: m.submission.config.toStringMap(),
    submittedAt: m.submission.submittedAt,
    state: m.state,
    endTime: m.endTime,
    failureCause: m.failureCause,
    attempt: m.currentAttempt,
    restarts: m.restarts,
    lastRestore: m.lastRestore,
    lastSavepoint: m.lastSavepoint,
    restartTimestamps: m.restartTimestamps,
    exceptions: m.exceptions,
  };
}

/** A malformed graph from a client is rejected whole, with the reason. */
export function validateGraph(graph: JobGraph | undefined): void {
  if (!graph || !Array.isArray(graph.vertices) || graph.vertices.length === 0) throw new JobError('the job graph has no vertices');
  const ids = new Set<string>();
  for (const v of graph.vertices) {
    if (!v.id) throw new JobError('a job vertex has no id');
    if (ids.has(v.id)) throw new JobError(`two job vertices have the id ${v.id}`);
    ids.add(v.id);
    if (!Number.isInteger(v.max_parallelism) || v.max_parallelism < 1 || v.max_parallelism > MAX_MAX_PARALLELISM) {
      throw new JobError(`vertex ${v.id} (${v.name}) has max parallelism ${v.max_parallelism}: it must be between 1 and ${MAX_MAX_PARALLELISM}`);
    }
    if (!Number.isInteger(v.parallelism) || v.parallelism < 1) throw new JobError(`vertex ${v.id} (${v.name}) has parallelism ${v.parallelism}: it must be at least 1`);
    if (v.parallelism > v.max_parallelism) throw new JobError(`vertex ${v.id} (${v.name}) has parallelism ${v.parallelism} above its max parallelism ${v.max_parallelism}`);
  }
  if (!graph.vertices.some((v) => v.is_source)) throw new JobError('the job graph has no source');
  for (const e of graph.edges ?? []) {
    if (!ids.has(e.source) || !ids.has(e.target)) throw new JobError(`job edge ${e.source} -> ${e.target} names an unknown vertex`);
    if (!['FORWARD', 'REBALANCE', 'HASH', 'BROADCAST'].includes(e.partitioning)) throw new JobError(`job edge ${e.source} -> ${e.target} has unknown partitioning ${e.partitioning}`);
  }
}

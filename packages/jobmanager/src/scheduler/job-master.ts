import path from 'node:path';
import {
  Configuration, describeError, JobError, taskName, type JobGraph, type Logger, type TaskRef, type TaskStateUpdate,
} from '@weir/core';
import { readSnapshot, type SnapshotMetadata } from '@weir/runtime';
import { CheckpointCoordinator } from '../checkpoint/coordinator';
import { CheckpointIdCounter } from '../checkpoint/checkpoint-id-counter';
import { CheckpointStatsTracker, type CheckpointStatsSnapshot } from '../checkpoint/checkpoint-stats';
import { CheckpointStatsLog } from '../checkpoint/checkpoint-stats-log';
import { CompletedCheckpointStore } from '../checkpoint/completed-store';
import { restoreHandlesFor } from '../checkpoint/restore-plan';
import { SnapshotTriggers, type TriggerKind } from '../checkpoint/snapshot-triggers';
import { CHECKPOINT_ID_COUNTER, STATS_LOG } from '../job-store';
import { damagedStateCause } from './damaged-state';
import { taskDeployment } from './task-deployment';
import { restartStrategyFrom, type RestartStrategy } from '../restart/restart-strategy';
import type { AllocatedSlot, ResourceManager } from '../resource-manager';
import { JobOutput } from '../job-output';
import { ExecutionGraph, type Execution } from './execution-graph';
import { checkTransition, isExecutionTerminal, isTerminal, type JobState } from './job-state';

export interface JobSubmission {
  jobId: string;
  graph: JobGraph;
  bundle: Buffer;
  args: string[];
  /** Cluster configuration with the job's own settings layered over it. */
  config: Configuration;
  submittedAt: number;
}

export interface ExceptionEntry {
  timestamp: number;
  task: string;
  taskmanager_id: string;
  root_cause: string;
}

export interface JobMasterHooks {
  persist(master: JobMaster): void;
  /** The job's own directory in the job store (statistics log, checkpoint id counter); none in unit tests. */
  jobDirectory?: string;
}


/**
 * Runs one job: takes slots, deploys every subtask, follows their states, drives the
 * checkpoint coordinator, and on a failure cancels the attempt and redeploys the whole
 * job from the latest completed checkpoint, as the restart strategy allows.
 */
export class JobMaster {
  state: JobState = 'CREATED';
  graph?: ExecutionGraph;
  restarts = 0;
  readonly exceptions: ExceptionEntry[] = [];
  failureCause = '';
  /** The latest restore: when it happened, and which checkpoint (completed when) it used. */
  lastRestore = { timestamp: 0, checkpointId: 0, path: '', checkpointTimestamp: 0 };
  /** When each restart began, oldest first: the restart strategy's delays can be read off them. */
  readonly restartTimestamps: number[] = [];
  /** The savepoint or checkpoint the job started from (execution.savepoint.path); never deleted by Weir. */
  initialRestore?: SnapshotMetadata;
  lastSavepoint = '';
  readonly triggers: SnapshotTriggers;
  endTime = 0;
  /** What the job's print() sinks wrote, for attached clients. */
  readonly output = new JobOutput();
  readonly coordinator: CheckpointCoordinator;
  readonly checkpointDir: string;
  private readonly restartStrategy: RestartStrategy;
  private attempt = -1;
  private readonly exhaustedSources = new Set<string>();
  private restartTimer?: ReturnType<typeof setTimeout>;
  private slotWaiter?: () => void;

  constructor(
    readonly submission: JobSubmission,
    private readonly rm: ResourceManager,
    private readonly log: Logger,
    private readonly hooks: JobMasterHooks,
    checkpointRoot: string,
    recovered?: {
      stats?: CheckpointStatsSnapshot; attempt?: number; restarts?: number;
      lastRestore?: Omit<JobMaster['lastRestore'], 'checkpointTimestamp'> & { checkpointTimestamp?: number }; lastSavepoint?: string;
    },
  ) {
    const config = submission.config;
    const interval = config.getOptionalNumber('execution.checkpointing.interval') ?? 0;
    this.checkpointDir = checkpointRoot;
    const store = new CompletedCheckpointStore(checkpointRoot, submission.jobId, config.getNumber('state.checkpoints.num-retained'));
    this.storeRef = store;
    store.vertices = submission.graph.vertices.map((v) => ({ id: v.id, name: v.name, parallelism: v.parallelism, max_parallelism: v.max_parallelism, operators: v.operators }));
    const stats = new CheckpointStatsTracker(recovered?.stats);
    const jobDir = hooks.jobDirectory;
    this.statsLog = jobDir ? new CheckpointStatsLog(path.join(jobDir, STATS_LOG), log.child({ jobId: submission.jobId }), () => stats.snapshot()) : undefined;
    if (this.statsLog) stats.record = (r) => this.statsLog?.append(r);
    const ids = new CheckpointIdCounter(jobDir && path.join(jobDir, CHECKPOINT_ID_COUNTER));
    ids.atLeast(stats.highestId() + 1);
    this.ids = ids;
    this.coordinator = new CheckpointCoordinator(
      {
        intervalMs: interval,
        timeoutMs: config.getNumber('execution.checkpointing.timeout'),
        minPauseMs: config.getNumber('execution.checkpointing.min-pause'),
        maxConcurrent: config.getNumber('execution.checkpointing.max-concurrent-checkpoints'),
        tolerableFailures: config.getNumber('execution.checkpointing.tolerable-failed-checkpoints'),
      },
      {
        runningTasks: () => this.runningTasks(),
        currentTasks: () => (this.graph?.all() ?? []).filter((e) => !isExecutionTerminal(e.state)).map((e) => e.ref),
        trigger: (task, id, timestamp, final, savepoint) =>
          this.sendTo(task, { trigger: { task, checkpoint_id: id, timestamp, final, kind: savepoint ? 'SAVEPOINT' : 'CHECKPOINT', stop: !!savepoint?.termination } }),
        notify: (task, id, completed, options) => this.sendTo(task, { notify: { task, checkpoint_id: id, completed, ...options } }),
        settled: (outcome) => this.triggers.onSettled(outcome),
        failJob: (reason) => this.failover(reason, '', ''),
      },
      store,
      stats,
      log.child({ jobId: submission.jobId }),
      ids,
    );
    this.restartStrategy = restartStrategyFrom(config, interval > 0);
    if (recovered?.attempt !== undefined) this.attempt = recovered.attempt;
    if (recovered?.restarts !== undefined) this.restarts = recovered.restarts;
    if (recovered?.lastRestore) this.lastRestore = { ...recovered.lastRestore, checkpointTimestamp: recovered.lastRestore.checkpointTimestamp ?? 0 };
    if (recovered?.lastSavepoint) this.lastSavepoint = recovered.lastSavepoint;
    this.triggers = new SnapshotTriggers(this.coordinator, () => this.state === 'RUNNING', config.getNumber('execution.checkpointing.timeout'), (p) => {
      this.lastSavepoint = p;
      this.hooks.persist(this);
    }, log.child({ jobId: submission.jobId }));
  }

  /**
   * Starts the job from saved state. Its checkpoints are numbered after the snapshot, and
   * after `lastIdOfItsJob` (the job that took it, when this JobManager knows it): file sink
   * part files are named by checkpoint id, and the old job may have committed some after
   * its savepoint into the same directory.
   */
  startFrom(snapshot: SnapshotMetadata, lastIdOfItsJob = 0): void {
    this.initialRestore = snapshot;
    this.coordinator.continueIdsAfter(Math.max(snapshot.id, lastIdOfItsJob));
  }

  /** `weir savepoint`, `weir stop`, `weir checkpoint`: returns the trigger id to poll. */
  requestSnapshot(kind: TriggerKind, targetDir = '', drain = false): string {
    if (this.state !== 'RUNNING') throw new JobError(`job ${this.jobId} is ${this.state}: only a RUNNING job can take a ${kind === 'CHECKPOINT' ? 'checkpoint' : 'savepoint'}`);
    if (kind === 'CHECKPOINT') return this.triggers.request(kind);
    const dir = targetDir || this.submission.config.getOptionalString('state.savepoints.dir');
    if (!dir) throw new JobError('no savepoint directory: name one (weir savepoint <job-id> <dir>, weir stop --savepoint-path <dir>) or set state.savepoints.dir');
    return this.triggers.request(kind, { targetDir: dir, termination: kind === 'STOP' ? (drain ? 'DRAIN' : 'STOP') : '' });
  }

  private readonly storeRef: CompletedCheckpointStore;
  private readonly ids: CheckpointIdCounter;
  readonly statsLog?: CheckpointStatsLog;

  get jobId(): string {
    return this.submission.jobId;
  }

  get currentAttempt(): number {
    return this.attempt;
  }

  get checkpointingEnabled(): boolean {
    return this.coordinator.periodic;
  }

  private transition(to: JobState): void {
    checkTransition(this.jobId, this.state, to);
    this.log.info({ jobId: this.jobId, from: this.state, to, attempt: this.attempt }, 'job state changed');
    this.state = to;
    if (isTerminal(to)) this.endTime = Date.now();
    this.hooks.persist(this);
  }

  /** Starts the job (or resumes it after a JobManager restart from its latest checkpoint). */
  async start(resume = false): Promise<void> {
    if (resume) {
      await this.storeRef.recover();
      this.coordinator.stats.reconcileCompleted(this.storeRef.all());
      // Ids only grow: above every chk-* directory on disk, whatever the counter says.
      this.ids.atLeast(this.storeRef.highestIdOnDisk + 1);
      const latest = this.storeRef.latest()?.id ?? 0;
      const newer = this.storeRef.damaged.filter((d) => d.id > latest);
      if (newer.length > 0) {
        await this.failOnDamagedState(`checkpoint ${newer.at(-1)?.id} cannot be used: ${newer.at(-1)?.reason}`, '', '');
        return;
      }
      // Started from a savepoint and no checkpoint of its own yet: that savepoint again.
      const from = this.submission.config.getOptionalString('execution.savepoint.path');
      if (from && !this.initialRestore && !this.storeRef.latest()) {
        try {
          this.startFrom(await readSnapshot(from));
        } catch (err) {
          this.failJob(`cannot restore from ${from}: ${describeError(err)}`);
          return;
        }
      }
    }
    void this.scheduleAttempt();
  }

  private async scheduleAttempt(): Promise<void> {
    try {
      await this.deployAttempt();
    } catch (err) {
      // A job that cannot be expanded or deployed fails alone, never the JobManager.
      this.log.error({ jobId: this.jobId, err: describeError(err) }, 'job cannot be scheduled');
      if (isTerminal(this.state) || this.state === 'CANCELLING') return;
      this.failJob(`the job cannot be scheduled: ${describeError(err)}`);
    }
  }

  private async deployAttempt(): Promise<void> {
    const attempt = ++this.attempt;
    this.exhaustedSources.clear();
    // Slots first, then the expansion: an execution graph is only built for slots that exist.
    const needed = ExecutionGraph.slotsNeeded(this.submission.graph);
    const slots = await this.acquireSlots(needed);
    // Cancelled, failed for good or rescheduled meanwhile: this attempt is stale.
    const stale = () => this.attempt !== attempt || !(this.state === 'CREATED' || this.state === 'RESTARTING');
    if (stale()) {
      if (slots) this.rm.release(this.jobId);
      return;
    }
    if (!slots) {
      this.failJob(`could not get ${needed} slot(s) within slot.request.timeout (${this.submission.config.getNumber('slot.request.timeout')} ms): the cluster has ${this.rm.totalSlots()} slot(s), ${this.rm.freeSlots()} free`);
      return;
    }
    // A checkpoint acknowledged by the old attempt may still be writing its metadata.
    await this.coordinator.settled();
    if (stale()) {
      this.rm.release(this.jobId);
      return;
    }
    const graph = new ExecutionGraph(this.jobId, this.submission.graph, attempt);
    this.graph = graph;
    // NO_CLAIM: until the job has a checkpoint of its own, it restores the one it started from.
    const restore = this.coordinator.latestCompleted() ?? this.initialRestore;
    if (restore) {
      this.lastRestore = { timestamp: Date.now(), checkpointId: restore.id, path: restore.path, checkpointTimestamp: restore.completedAt };
      this.coordinator.stats.restored(restore.id, this.lastRestore.timestamp);
    }
    this.transition('RUNNING');
    // Slot sharing: subtask i of every vertex goes to slot i.
    for (const execution of graph.all()) {
      const slot = slots[execution.ref.subtask];
      execution.taskmanagerId = slot.taskmanagerId;
      execution.slotIndex = slot.index;
      execution.dataAddress = slot.dataAddress;
    }
    for (const execution of graph.all()) {
      execution.state = 'DEPLOYING';
      this.sendTo(execution.ref, { deploy: taskDeployment(this.submission, graph, execution, restore, this.checkpointDir, this.checkpointingEnabled) });
    }
    this.coordinator.start();
  }

  /** An ended job found at start: its checkpoints follow the retention setting. */
  async recoverEnded(): Promise<void> {
    await this.storeRef.recover();
    await this.applyRetention();
  }

  /** A stored job that cannot run any more (invalid under today's limits): FAILED at start. */
  failStored(cause: string): void {
    this.exceptions.push({ timestamp: Date.now(), task: '', taskmanager_id: '', root_cause: cause });
    this.failureCause = cause;
    this.transition('FAILED');
  }

  /** Fails the job at once, without a restart. */
  private failJob(cause: string): void {
    this.exceptions.push({ timestamp: Date.now(), task: '', taskmanager_id: '', root_cause: cause });
    this.failureCause = cause;
    this.coordinator.stop();
    this.coordinator.abortAll('job failed');
    this.cancelExecutions();
    this.rm.release(this.jobId);
    this.transition('FAILED');
    void this.applyRetention();
  }

  private acquireSlots(count: number): Promise<AllocatedSlot[] | undefined> {
    const immediate = this.rm.allocate(this.jobId, count);
    if (immediate) return Promise.resolve(immediate);
    const timeoutMs = this.submission.config.getNumber('slot.request.timeout');
    this.log.info({ jobId: this.jobId, needed: count, free: this.rm.freeSlots() }, 'waiting for slots');
    return new Promise((resolve) => {
      const done = (slots: AllocatedSlot[] | undefined) => {
        clearTimeout(timer);
        this.rm.off('slots-available', retry);
        this.slotWaiter = undefined;
        resolve(slots);
      };
      const retry = () => {
        const slots = this.rm.allocate(this.jobId, count);
        if (slots) done(slots);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.slotWaiter = () => done(undefined);
      this.rm.on('slots-available', retry);
    });
  }

  private sendTo(task: TaskRef, message: Record<string, unknown>): void {
    const execution = this.graph?.get(task);
    const tm = execution?.taskmanagerId ? this.rm.get(execution.taskmanagerId) : undefined;
    tm?.send(message);
  }

  private runningTasks(): { attempt: number; sources: TaskRef[]; all: TaskRef[] } | undefined {
    const graph = this.graph;
    if (!graph || this.state !== 'RUNNING') return undefined;
    const all = graph.all();
    if (!all.every((e) => e.state === 'RUNNING')) return undefined;
    const sourceIds = new Set(graph.graph.vertices.filter((v) => v.is_source).map((v) => v.id));
    return { attempt: graph.attempt, sources: all.filter((e) => sourceIds.has(e.ref.vertex_id)).map((e) => e.ref), all: all.map((e) => e.ref) };
  }

  onTaskState(update: TaskStateUpdate): void {
    const execution = this.graph?.get(update.task);
    if (!execution || isExecutionTerminal(execution.state)) return; // an older attempt, or already over
    execution.state = update.state as Execution['state'];
    if (update.state === 'FAILED' && (update.error_kind === 'checkpoint' || update.error_kind === 'state')) {
      void this.failOnDamagedState(`${execution.name} failed: ${update.error}`, execution.name, execution.taskmanagerId ?? '');
    } else if (update.state === 'FAILED') {
      // A configuration error (a refused write, say) is not worth a restart either.
      this.failover(`${execution.name} failed: ${update.error}`, execution.name, execution.taskmanagerId ?? '', update.error_kind !== 'config');
    } else if (update.state === 'FINISHED' && this.graph?.all().every((e) => e.state === 'FINISHED')) {
      this.coordinator.stop();
      // A periodic checkpoint triggered while the tasks were finishing can never complete.
      this.coordinator.abortAll('job finished');
      this.rm.release(this.jobId);
      this.transition('FINISHED');
      void this.applyRetention();
    }
  }

  onSourceExhausted(task: TaskRef): void {
    const graph = this.graph;
    if (!graph?.get(task) || this.state !== 'RUNNING') return;
    this.exhaustedSources.add(taskName(task.vertex_id, task.subtask, task.attempt));
    const sources = graph.all().filter((e) => graph.vertex(e.ref.vertex_id).is_source);
    if (sources.every((s) => this.exhaustedSources.has(s.name))) this.coordinator.requestFinalCheckpoint();
  }

  onMetrics(tasks: { task: TaskRef; records_in: number; records_out: number }[]): void {
    for (const m of tasks) {
      const execution = this.graph?.get(m.task);
      if (execution) {
        execution.recordsIn = m.records_in;
        execution.recordsOut = m.records_out;
      }
    }
  }

  onTaskManagerLost(taskmanagerId: string, reason: string): void {
    const affected = this.graph?.all().filter((e) => e.taskmanagerId === taskmanagerId && !isExecutionTerminal(e.state)) ?? [];
    if (affected.length === 0 || this.state !== 'RUNNING') return;
    this.failover(`TaskManager ${taskmanagerId} lost: ${reason}`, affected.map((e) => e.name).join(', '), taskmanagerId);
  }

  /**
   * Cancels the running attempt and restarts from the latest completed checkpoint, if the
   * strategy allows. A configuration error (`restartable` false) fails the job at once.
   */
  private failover(cause: string, task: string, taskmanagerId: string, restartable = true): void {
    if (this.state !== 'RUNNING') return;
    this.exceptions.push({ timestamp: Date.now(), task, taskmanager_id: taskmanagerId, root_cause: cause });
    // `weir status` shows why the job is restarting, not only why it failed for good.
    this.failureCause = cause;
    this.log.warn({ jobId: this.jobId, attempt: this.attempt, cause }, 'job failing over');
    this.transition('FAILING');
    this.coordinator.abortAll(`job failover: ${cause.split('\n')[0]}`);
    this.cancelExecutions();
    this.rm.release(this.jobId);
    const delay = restartable ? this.restartStrategy.onFailure(Date.now()) : undefined;
    if (delay === undefined) {
      // The note goes on the first line, before any stack frames of the cause.
      const [head, ...frames] = cause.split('\n');
      const note = restartable ? `restart strategy ${this.restartStrategy.description} gave up` : 'not restarted: a configuration error';
      this.failureCause = [`${head} (${note})`, ...frames].join('\n');
      this.coordinator.stop();
      this.transition('FAILED');
      void this.applyRetention();
      return;
    }
    this.restarts++;
    this.transition('RESTARTING');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'RESTARTING') return;
      this.restartTimestamps.push(Date.now());
      void this.scheduleAttempt();
    }, delay);
  }

  /**
   * Damaged or missing checkpoint state is not transient: every restart would fail on it
   * again. The job fails at once, naming what is damaged and which retained checkpoints
   * are still whole. It never falls back to an older checkpoint by itself: a committing
   * sink has already made the output after that checkpoint visible, and would repeat it.
   */
  private async failOnDamagedState(cause: string, task: string, taskmanagerId: string): Promise<void> {
    if (isTerminal(this.state) || this.state === 'CANCELLING' || this.state === 'FAILING') return;
    this.exceptions.push({ timestamp: Date.now(), task, taskmanager_id: taskmanagerId, root_cause: cause });
    this.log.error({ jobId: this.jobId, attempt: this.attempt, cause }, 'damaged checkpoint state: failing the job');
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.slotWaiter?.();
    this.transition('FAILING');
    this.coordinator.stop();
    this.coordinator.abortAll('damaged checkpoint state');
    this.cancelExecutions();
    this.rm.release(this.jobId);
    const whole = await this.storeRef.wholeCheckpoints().catch(() => []);
    if ((this.state as JobState) !== 'FAILING') return;
    this.failureCause = damagedStateCause(cause, whole.map((c) => ({ id: c.id, path: c.path })));
    this.transition('FAILED');
  }

  /**
   * Retention when the job ends, as Flink's externalized-checkpoint-retention: a finished
   * job's checkpoints are deleted; a cancelled one's unless RETAIN_ON_CANCELLATION; a failed
   * one's are kept (to inspect or resume from) unless NO_EXTERNALIZED_CHECKPOINTS.
   */
  private async applyRetention(): Promise<void> {
    const retention = this.submission.config.getString('execution.checkpointing.externalized-checkpoint-retention');
    const keep = this.state === 'CANCELED' ? retention === 'RETAIN_ON_CANCELLATION' : this.state === 'FAILED' ? retention !== 'NO_EXTERNALIZED_CHECKPOINTS' : false;
    if (keep) return;
    await this.coordinator.settled();
    await this.storeRef.discardAll().catch((err) => this.log.warn({ jobId: this.jobId, err: describeError(err) }, 'cannot delete the checkpoints of an ended job'));
  }

  private cancelExecutions(): void {
    for (const e of this.graph?.all() ?? []) {
      if (!isExecutionTerminal(e.state)) {
        this.sendTo(e.ref, { cancel: { task: e.ref } });
        e.state = 'CANCELED';
      }
    }
  }

  async cancel(): Promise<void> {
    if (isTerminal(this.state)) return;
    this.transition('CANCELLING');
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.slotWaiter?.();
    this.coordinator.stop();
    this.coordinator.abortAll('job cancelled');
    this.cancelExecutions();
    this.rm.release(this.jobId);
    this.transition('CANCELED');
    await this.applyRetention();
  }
}

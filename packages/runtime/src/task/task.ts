import {
  jobCheckpointDirectory,
  keyGroupRangeFor, rangesOverlap, taskName as formatTaskName, type DeployTask, type Logger, type StateHandle, type TaskRef, type Termination, describeError,
  ContractViolation, RecordSerializer, faultPoint, WeirError,
} from '@weir/core';
import type { OperatorContext, StateDescriptor } from '@weir/api';
import type { VertexPlan } from '@weir/api/src/internal';
import { BarrierAligner, type CheckpointingMode } from '../barrier/aligner';
import { ChangelogChain } from '../checkpoint/changelog-chain';
import { LocalStateCopies } from '../checkpoint/local-recovery';
import { isSharedHandle, SHARED_DIR, sharedDirectory, sharedFileName } from '../checkpoint/shared-state';
import { checkpointDirectory, discardStateFile, isWithinJobDirectory, joinLocation, parentLocation, readTaskState, storeStateBytes, type StateFileMerger, type TaskStateSnapshot } from '../checkpoint/storage';
import { createKeyedBackend, stateBackendSettings, type StateBackendSettings } from '../state/backend-factory';
import type { KeyedCapture, KeyedSnapshot, KeyedStateBackend } from '../state/keyed-backend';
import { UnalignedBarrierHandler, type InputChannelState } from '../barrier/unaligned';
import { channelStateBytes, describeChannelState, inputRecordsToReplay, replayOutputs, type StoredChannelState } from '../checkpoint/channel-state';
import { isKeyedOnlyFile, keyedFileName, writeTaskSnapshot } from '../checkpoint/task-state-writer';
import { InputGate } from '../network/input-gate';
import { networkSettings, type NetworkSettings } from '../network/network-settings';
import { BATCH_RECORDS, TaskOutput, type OutputChannelState } from '../network/record-writer';
import { BufferDebloater } from '../network/buffer-debloater';
import { OperatorStateStore } from '../state/operator-state';
import { Signal, sleep, yieldToEventLoop } from '../signal';
import path from 'node:path';
import type { JobSourceMap } from '../job-source-map';
import { describeOperator, OperatorChain } from './operator-chain';
import { RecordFeeder } from './record-feeder';
import { keyedStep, plainStep } from './own-call-sites';
import type { TaskEvents } from './task-events';
import { taskFailure } from './task-failure';

/** Most records a source emits per call (one batch): each call ends with a turn of the event loop. */
const SOURCE_BATCH = BATCH_RECORDS;

interface SnapshotTiming {
  startDelayMs: number;
  alignmentMs: number;
  syncMs: number;
  unaligned: boolean;
}

type Command =
  | { kind: 'trigger'; checkpointId: number; timestamp: number; final: boolean; stop?: boolean }
  | { kind: 'notify'; checkpointId: number; completed: boolean; savepoint?: boolean; termination?: Termination };

/**
 * Runs one subtask: restores its state, drives its operator chain from a source or from
 * its input gate, takes snapshots when barriers pass, and reports to the JobManager.
 * Everything runs on the slot's thread; commands from the JobManager wait in a mailbox
 * and are handled between record batches, so a snapshot never sees half a batch.
 */
export class Task {
  readonly ref: TaskRef;
  readonly name: string;
  readonly gate = new InputGate();
  readonly output: TaskOutput;
  /** Records and state of this task, by the serializer contract, with the job's registered classes. */
  readonly serializer: RecordSerializer;
  private readonly mailbox: Command[] = [];
  private readonly wakeup = new Signal();
  private readonly keyed?: KeyedStateBackend;
  private readonly stateSettings: StateBackendSettings;
  /** Incremental checkpoints only: the files each checkpoint's keyed state is restored from. */
  private readonly changelog?: ChangelogChain;
  private readonly localCopies?: LocalStateCopies;
  /** Snapshots are written one after the other, in checkpoint order (a delta builds on the one before). */
  private persisting: Promise<void> = Promise.resolve();
  private readonly operatorStates = new Map<string, OperatorStateStore>();
  private readonly chain: OperatorChain;
  private aligner?: BarrierAligner;
  private unaligned?: UnalignedBarrierHandler;
  readonly network: NetworkSettings;
  private debloater?: BufferDebloater;
  private readonly feeder: RecordFeeder;
  /** The job's effective configuration, as every operator sees it. */
  private readonly config: Record<string, string>;
  private cancelled = false;
  private failed = false;
  private lastSnapshotId = 0;
  private completedUpTo = 0;
  private lastAbortedId = 0;
  private finalCheckpointId = 0;
  private finalCheckpointDone = false;
  private sourceEnded = false;
  /** A source that emitted the barrier of a stop-with-savepoint emits nothing after it. */
  private stopAt = 0;
  /** Set when a stop-with-savepoint completed: the task ends (without end of input for STOP). */
  private termination: Termination = '';
  /** Operators whose state came from the checkpoint or savepoint restored from. */
  private readonly restoredUids = new Set<string>();
  recordsIn = 0;
  readonly disconnects: (() => void)[] = [];

  constructor(
    readonly deploy: DeployTask,
    readonly plan: VertexPlan,
    private readonly events: TaskEvents,
    private readonly log: Logger,
    /** The job bundle's source map, so the failure cause names the job's own file and line. */
    private readonly sourceMap?: JobSourceMap,
    /** The TaskManager's merger of its tasks' state files, used when the job turns file merging on. */
    private readonly stateFileMerger?: StateFileMerger,
  ) {
    this.ref = deploy.task;
    this.name = formatTaskName(this.ref.vertex_id, this.ref.subtask, this.ref.attempt);
    this.config = JSON.parse(deploy.config_json || '{}') as Record<string, string>;
    this.network = networkSettings(this.config, deploy.checkpointing_mode || 'EXACTLY_ONCE');
    this.serializer = new RecordSerializer(plan.types);
    const lastUid = plan.operatorUids[plan.operatorUids.length - 1] ?? plan.vertex.operators[0]?.uid ?? '';
    this.output = new TaskOutput(describeOperator(plan, lastUid));
    this.stateSettings = stateBackendSettings(this.config);
    if (plan.keySelector) {
      const range = keyGroupRangeFor(this.ref.subtask, deploy.parallelism, deploy.max_parallelism);
      this.keyed = createKeyedBackend(this.stateSettings, range, deploy.max_parallelism, { jobId: this.ref.job_id, task: this.name }, plan.types);
      if (this.stateSettings.incremental) this.changelog = new ChangelogChain(this.stateSettings.maxChainLength);
    }
    if (this.stateSettings.localRecovery) {
      this.localCopies = new LocalStateCopies(path.join(this.stateSettings.localRecoveryDir, this.ref.job_id, `${this.ref.vertex_id}-${this.ref.subtask}`));
    }
    const objectReuse = String(this.config['pipeline.object-reuse']) === 'true';
    this.chain = new OperatorChain(plan, (v) => this.output.emit(v), objectReuse ? undefined : this.serializer);
    const head = this.chain.head;
    const keyed = this.keyed;
    const keySelector = plan.keySelector;
    const serializer = this.serializer;
    this.feeder = new RecordFeeder(
      keyed && keySelector
        ? keyedStep(keySelector, (key, keyGroup) => this.setCurrentKey(keyed, key, keyGroup), head, deploy.max_parallelism)
        : plainStep(head),
      (records) => serializer.encodeRecords(records),
    );
  }

  get isSource(): boolean {
    return !!this.plan.createSource;
  }

  /** Its partitions will never be read to the end. */
  get cancelledOrFailed(): boolean {
    return this.cancelled || this.failed;
  }

  get recordsOut(): number {
    return this.chain.recordsOut;
  }

  trigger(checkpointId: number, timestamp: number, final: boolean, stop = false): void {
    this.mailbox.push({ kind: 'trigger', checkpointId, timestamp, final, stop });
    this.wakeup.notify();
  }

  /** `savepoint`: an intermediate savepoint completed; sinks do not commit on it. */
  notify(checkpointId: number, completed: boolean, options: { savepoint?: boolean; termination?: Termination } = {}): void {
    this.mailbox.push({ kind: 'notify', checkpointId, completed, ...options });
    this.wakeup.notify();
  }

  cancel(): void {
    this.cancelled = true;
    this.wakeup.notify();
    this.gate.signal.notify();
    this.output.available.notify();
  }

  async run(): Promise<void> {
    try {
      await this.restore();
      await this.chain.open((uid) => this.contextFor(uid), this.plan.vertex.operators[0]?.uid);
      const mode = (this.deploy.checkpointing_mode || 'EXACTLY_ONCE') as CheckpointingMode;
      this.aligner = new BarrierAligner(this.gate.channels, mode, (id, ts, align, final) => this.snapshot(id, ts, align, final), () => this.gate.unblockAll());
      if (this.network.unaligned) {
        this.unaligned = new UnalignedBarrierHandler(this.gate, (id, ts, align, inputs) => this.snapshot(id, ts, align, false, inputs));
      }
      if (this.network.debloat && this.gate.channels.length > 0) {
        this.debloater = new BufferDebloater(this.gate.channels, this.network);
      }
      this.events.state(this.ref, 'RUNNING');
      const flusher = setInterval(() => this.output.flush(), Math.max(1, this.bufferTimeout()));
      const ticker = setInterval(() => {
        this.debloater?.tick();
        // wakes a task that waits on its inputs while an alignment may have timed out
        if (this.aligner?.isAligning()) this.wakeup.notify();
      }, 100);
      try {
        if (this.isSource) await this.runSource();
        else await this.runInputs();
      } finally {
        clearInterval(flusher);
        clearInterval(ticker);
      }
      if (this.cancelled) return this.cancelledExit();
      // Stopped with a savepoint without --drain: the input did not end, so operators are not told it did.
      if (this.termination !== 'STOP') await this.chain.finish();
      this.output.broadcastEnd();
      await this.chain.close();
      this.events.state(this.ref, 'FINISHED');
    } catch (err) {
      if (this.cancelled) return this.cancelledExit();
      this.failed = true;
      this.log.error({ task: this.name, err }, 'task failed');
      await this.chain.close().catch(() => {});
      const failure = taskFailure(err, this.sourceMap);
      this.events.state(this.ref, 'FAILED', failure.message, failure.kind);
    } finally {
      for (const d of this.disconnects) d();
      await this.persisting.catch(() => {});
      await this.keyed?.dispose().catch((err: unknown) => this.log.warn({ task: this.name, err }, 'closing the keyed state backend failed'));
    }
  }

  private async cancelledExit(): Promise<void> {
    await this.chain.close().catch(() => {});
    this.events.state(this.ref, 'CANCELED');
  }

  private bufferTimeout(): number {
    return Number(this.config['execution.buffer-timeout'] ?? 10);
  }

  // ---- sources -------------------------------------------------------------------

  private async runSource(): Promise<void> {
    const source = this.chain.source;
    if (!source) throw new Error(`task ${this.name} has no source`);
    for (;;) {
      await this.handleMailbox();
      if (this.cancelled) return;
      if (this.termination) {
        this.output.flush();
        return;
      }
      if (this.stopAt) {
        // Past the stop-with-savepoint barrier: wait for it to complete (end) or abort (go on).
        await this.wakeup.wait();
        continue;
      }
      if (!this.output.isAvailable()) {
        await Promise.race([this.output.available.wait(), this.wakeup.wait()]);
        continue;
      }
      const step = await source.emit(this.chain.head, this.output.recordsPerCall(SOURCE_BATCH));
      if (step.status === 'end') break;
      if (step.status === 'idle') {
        this.output.flush();
        await Promise.race([sleep(step.waitMs), this.wakeup.wait()]);
      } else {
        await yieldToEventLoop();
      }
    }
    this.output.flush();
    this.sourceEnded = true;
    if (!this.deploy.checkpointing_enabled) return;
    // A bounded source ends with a final checkpoint so that committing sinks commit
    // everything: ask for it, then emit end-of-partition only once it completed.
    this.events.sourceExhausted(this.ref);
    while (!this.cancelled && !this.finalCheckpointDone && !this.termination) {
      await this.handleMailbox();
      if (this.finalCheckpointDone || this.cancelled || this.termination) break;
      await this.wakeup.wait();
    }
  }

  // ---- inputs --------------------------------------------------------------------

  private async runInputs(): Promise<void> {
    for (;;) {
      await this.handleMailbox();
      if (this.cancelled) return;
      if (this.gate.error) throw this.gate.error;
      this.handleBarriersOutOfBand();
      if (!this.output.isAvailable()) {
        await Promise.race([this.output.available.wait(), this.wakeup.wait()]);
        continue;
      }
      if (this.feeder.hasWork() && !this.feeder.run()) {
        await this.feeder.yieldNow();
        continue;
      }
      if (this.feeder.sliceUsedUp()) {
        await this.feeder.yieldNow();
        continue;
      }
      const next = this.gate.poll();
      if (!next) {
        if (this.gate.allEnded()) break;
        // The input ran dry: what this task emitted goes now, not after the buffer timeout
        // (as a source does when it is idle). Under full load the input rarely runs dry,
        // so batches stay full there.
        this.output.flush();
        await Promise.race([this.gate.signal.wait(), this.wakeup.wait()]);
        continue;
      }
      const { channel, item } = next;
      if (item.kind === 'batch') {
        const { records, keyGroups } = item.data ? this.serializer.decodeBatchWithKeyGroups(item.data) : item;
        this.recordsIn += records.length;
        this.feeder.take(channel, records, keyGroups);
      } else if (item.kind === 'barrier') {
        // Unaligned barriers were acted on when they arrived.
        if (!item.unaligned) this.aligner?.onBarrier(channel, item.checkpointId, item.timestamp, item.final);
      } else {
        channel.ended = true;
        this.aligner?.onEndOfPartition();
      }
    }
    // Inputs ended after the final checkpoint's barrier: wait until it is complete so
    // that sinks have committed before the task finishes (a savepoint's too).
    if (this.deploy.checkpointing_enabled || this.lastSnapshotId > 0) {
      // (An aborted last snapshot, a savepoint of a job without checkpointing, is not waited for.)
      while (!this.cancelled && this.completedUpTo < this.lastSnapshotId && this.lastAbortedId !== this.lastSnapshotId) {
        await this.handleMailbox();
        if (this.completedUpTo >= this.lastSnapshotId || this.lastAbortedId === this.lastSnapshotId) break;
        await this.wakeup.wait();
      }
    }
  }

  /** Unaligned barriers that arrived, and aligned checkpoints whose alignment timed out. */
  private handleBarriersOutOfBand(): void {
    const unaligned = this.unaligned;
    if (!unaligned) return;
    if (this.gate.arrivedBarriers.length > 0) unaligned.handleArrived(() => this.feeder.unprocessed());
    const aligner = this.aligner;
    if (aligner?.isAligning() && aligner.alignmentMs() >= this.network.alignedTimeoutMs) {
      const taken = aligner.takeOver();
      if (taken) unaligned.begin(taken.checkpointId, taken.timestamp, taken.alignmentMs, taken.aligned, () => this.feeder.unprocessed());
    }
  }

  private setCurrentKey(keyed: KeyedStateBackend, key: unknown, keyGroup?: number): void {
    try {
      keyed.setCurrentKey(key, keyGroup);
    } catch (err) {
      if (err instanceof ContractViolation) {
        const head = this.plan.vertex.operators[0];
        throw err.toJobError(`the key selector of ${head?.name} (uid ${head?.uid})`, 'key');
      }
      throw err;
    }
  }

  // ---- checkpoints ---------------------------------------------------------------

  private async handleMailbox(): Promise<void> {
    while (this.mailbox.length > 0) {
      const command = this.mailbox.shift() as Command;
      if (command.kind === 'trigger') {
        if (!this.isSource || this.termination) continue;
        // Only a source that has read everything takes a final checkpoint; one meant for an
        // earlier attempt must not make this one finish without covering its last records.
        if (command.final && this.sourceEnded) this.finalCheckpointId = command.checkpointId;
        this.snapshot(command.checkpointId, command.timestamp, 0, command.final);
        if (command.stop) this.stopAt = command.checkpointId;
      } else if (command.completed) {
        this.completedUpTo = Math.max(this.completedUpTo, command.checkpointId);
        this.onCheckpointCompleted(command.checkpointId);
        // An intermediate savepoint commits nothing: the next checkpoint does (as Flink since 1.15).
        if (!command.savepoint) await this.chain.notifyComplete(command.checkpointId);
        if (this.finalCheckpointId && command.checkpointId >= this.finalCheckpointId) this.finalCheckpointDone = true;
        if (command.termination) this.termination = command.termination;
      } else {
        if (command.checkpointId === this.stopAt) this.stopAt = 0; // the stop failed: the job goes on
        this.lastAbortedId = Math.max(this.lastAbortedId, command.checkpointId);
        this.aligner?.onAborted(command.checkpointId);
        this.onCheckpointAborted(command.checkpointId);
        this.unaligned?.onAborted(command.checkpointId);
        await this.chain.notifyAborted(command.checkpointId);
      }
    }
  }

  /**
   * Synchronous part: operators move their state into state objects, the keyed backend
   * captures its table (copy-on-write or a store read transaction: no copy of the state),
   * and the barrier goes downstream. Reading the capture, encoding and writing happen
   * afterwards, off the record path; the acknowledgement carries the handles and timings.
   */
  private snapshot(checkpointId: number, timestamp: number, alignmentMs: number, final: boolean, inputs?: Promise<InputChannelState[] | undefined>): void {
    const started = Date.now();
    const firstBarrier = this.gate.firstBarrierAt.get(checkpointId) ?? started;
    const timing: SnapshotTiming = { startDelayMs: Math.max(0, firstBarrier - timestamp), alignmentMs, syncMs: 0, unaligned: inputs !== undefined || (this.isUnalignedSource() && !final) };
    this.lastSnapshotId = Math.max(this.lastSnapshotId, checkpointId);
    try {
      this.chain.snapshotState(checkpointId);
      const range = this.keyed?.range ?? { start: 0, end: -1 };
      const snapshot: TaskStateSnapshot = { vertexId: this.ref.vertex_id, subtask: this.ref.subtask, keyGroupStart: range.start, keyGroupEnd: range.end, operators: {} };
      for (const [uid, store] of this.operatorStates) {
        const { union, split } = store.snapshot();
        snapshot.operators[uid] = split ? { operator: union, split } : { operator: union };
      }
      let capture: KeyedCapture | undefined;
      if (this.keyed) {
        const mode = this.changelog ? this.changelog.nextMode(this.keyed.needsFullCapture()) : 'full';
        capture = this.keyed.capture(mode);
        this.changelog?.captured(checkpointId, mode, capture.changes);
      }
      snapshot.parallelism = this.deploy.parallelism;
      if (this.isSource) faultPoint('tm.source.snapshot');
      if (timing.unaligned) {
        // The barrier overtakes what is queued for the consumers; that goes into the checkpoint.
        const outputs = this.output.broadcastPriorityBarrier(checkpointId, timestamp);
        if (!this.isSource) faultPoint('tm.barrier.forwarded');
        timing.syncMs = Date.now() - started;
        this.persisting = this.persisting.then(() => this.persist(checkpointId, snapshot, timing, capture, inputs ?? Promise.resolve([]), outputs));
      } else {
        this.output.broadcastBarrier(checkpointId, timestamp, final);
        if (!this.isSource) faultPoint('tm.barrier.forwarded');
        timing.syncMs = Date.now() - started;
        this.persisting = this.persisting.then(() => this.persist(checkpointId, snapshot, timing, capture));
      }
    } catch (err) {
      // A configuration error fails the task by itself; a decline would get the job restarted.
      if (taskFailure(err).kind !== 'config') this.events.decline(this.ref, checkpointId, `${this.name}: snapshot failed: ${describeError(err)}`);
      throw err;
    }
  }

  /** A source emits its barriers unaligned when unaligned checkpoints are on from the start. */
  private isUnalignedSource(): boolean {
    return this.isSource && this.network.unaligned && this.network.alignedTimeoutMs === 0;
  }

  private async persist(
    checkpointId: number, snapshot: TaskStateSnapshot, timing: SnapshotTiming, capture: KeyedCapture | undefined,
    inputs?: Promise<InputChannelState[] | undefined>, outputs?: OutputChannelState[],
  ): Promise<void> {
    const started = Date.now();
    const written: StateHandle[] = [];
    try {
      let persistedBytes = 0;
      if (inputs) {
        const recorded = await inputs;
        if (!recorded) {
          this.events.decline(this.ref, checkpointId, `${this.name}: checkpoint ${checkpointId} was superseded while its in-flight data was being recorded`);
          return;
        }
        snapshot.channels = { inputs: recorded, outputs: outputs ?? [] };
        persistedBytes = channelStateBytes(snapshot.channels);
      }
      const root = this.deploy.checkpoint_dir;
      const jobId = this.ref.job_id;
      const headUid = this.plan.operatorUids[0];
      const chkDir = checkpointDirectory(root, jobId, checkpointId);
      const merger = this.config['execution.checkpointing.file-merging.enabled'] === 'true' ? this.stateFileMerger : undefined;
      const cost = { puts: 0, bytes: 0 };
      const { task, keyed: own } = await writeTaskSnapshot(snapshot, headUid, capture, {
        taskFile: joinLocation(chkDir, `${snapshot.vertexId}-${snapshot.subtask}.state`),
        keyedFile: (part) => this.changelog && capture
          ? joinLocation(sharedDirectory(root, jobId), sharedFileName(this.ref.vertex_id, this.ref.subtask, this.ref.attempt, checkpointId, capture.mode, part))
          : joinLocation(chkDir, keyedFileName(snapshot.vertexId, snapshot.subtask, part)),
        keyedApart: !!this.changelog,
        // The task's own file may go inline into _metadata or into a merged file; keyed files
        // (large, and in shared/ reused by later checkpoints) are always files of their own.
        store: async (file, data, taskFile) => {
          const stored = await storeStateBytes(file, checkpointId, data, taskFile ? { inline: true, merger } : {});
          cost.puts += stored.cost.puts;
          cost.bytes += stored.cost.bytes;
          return stored;
        },
        written: (handle, data) => {
          written.push(handle);
          void this.localCopies?.keep(handle, data);
        },
      }, this.serializer);
      const keyedHandles = this.changelog && capture ? this.changelog.written(checkpointId, own) : own;
      const handle = { ...task, states: [...(task.states ?? []), ...describeChannelState(snapshot.channels, this.plan.vertex.operators[0].uid)] };
      await faultPoint('tm.state.written');
      if (this.cancelled) {
        // Nobody will acknowledge these files: leave no garbage behind.
        for (const h of written) await discardStateFile(h, this.jobDir);
        return;
      }
      const handles = [handle, ...keyedHandles];
      this.events.ack({
        task: this.ref,
        checkpoint_id: checkpointId,
        handles,
        state_size: handles.reduce((n, h) => n + h.size, 0),
        checkpointed_size: written.reduce((n, h) => n + h.size, 0),
        sync_duration_ms: timing.syncMs,
        async_duration_ms: Date.now() - started,
        alignment_duration_ms: timing.alignmentMs,
        acknowledged_at: Date.now(),
        start_delay_ms: timing.startDelayMs,
        persisted_data_bytes: persistedBytes,
        unaligned: timing.unaligned,
        put_count: cost.puts,
        bytes_written: cost.bytes,
      });
    } catch (err) {
      const changes = this.changelog?.failed(checkpointId);
      if (changes) this.keyed?.requeue(changes);
      for (const h of written) await discardStateFile(h, this.jobDir);
      const failure = taskFailure(err);
      // A refused state file would refuse every checkpoint after it: the job fails, once.
      if (failure.kind === 'config' && !this.cancelled) this.events.state(this.ref, 'FAILED', `writing state failed: ${failure.message}`, 'config');
      else this.events.decline(this.ref, checkpointId, `${this.name}: writing state failed: ${describeError(err)}`);
    }
  }

  /** Every state file of the job lies under it (handles naming anything else are refused). */
  private get jobDir(): string {
    return jobCheckpointDirectory(this.deploy.checkpoint_dir, this.ref.job_id);
  }

  private onCheckpointCompleted(checkpointId: number): void {
    if (!this.changelog) return;
    this.changelog.onCompleted(checkpointId);
    void this.localCopies?.retainOnly(this.changelog.latest());
  }

  /** An aborted incremental checkpoint leaves nothing: its delta file goes, its changes go into the next one. */
  private onCheckpointAborted(checkpointId: number): void {
    if (!this.changelog) return;
    const chain = this.changelog;
    // After the write, if one is still running: the file exists only then.
    this.persisting = this.persisting.then(async () => {
      const { changes, discard } = chain.onAborted(checkpointId);
      if (changes) this.keyed?.requeue(changes);
      for (const f of discard ?? []) await discardStateFile(f, this.jobDir);
    }).catch((err: unknown) => this.log.warn({ task: this.name, checkpointId, err }, 'cleaning up an aborted checkpoint failed'));
  }

  private async restore(): Promise<void> {
    const handles: StateHandle[] = this.deploy.restore_handles ?? [];
    if (!this.deploy.restore_checkpoint_id || handles.length === 0) return;
    const started = Date.now();
    const mine = this.keyed?.range;
    // The handles may come from several old vertices (the job's chaining changed): take
    // only the state of this task's own operators, matched by uid.
    const ownUids = new Set(this.plan.vertex.operators.map((o) => o.uid));
    const headUid = this.plan.operatorUids[0];
    // Only files inside the checkpoint or savepoint restored from are read (its own
    // checkpoints, a savepoint anywhere the user keeps it, another job's retained checkpoint).
    const allowed = this.deploy.restore_dir || jobCheckpointDirectory(this.deploy.checkpoint_dir, this.ref.job_id);
    const splits = new Map<string, Record<string, unknown[]>[]>();
    const withChannels: TaskStateSnapshot[] = [];
    // Handles in order: each old subtask's file, then its chain (full parts, then deltas).
    // One at a time, each applied before the next is read: state larger than memory
    // never is in memory at once.
    let first = true;
    let skipped = 0;
    for (const handle of handles) {
      // A file of keyed state only, of key groups this task does not own, is not read at all.
      if (isKeyedOnlyFile(handle.path) && !(mine && rangesOverlap({ start: handle.key_group_start, end: handle.key_group_end }, mine))) {
        skipped++;
        continue;
      }
      // An incremental checkpoint's chain lies in its job's shared/ directory, beside chk-<n>.
      const jobOfRestored = parentLocation(allowed);
      const dir = isSharedHandle(handle) && isWithinJobDirectory(joinLocation(jobOfRestored, SHARED_DIR), handle.path) ? jobOfRestored : allowed;
      const snap = await readTaskState(handle, dir, this.serializer, this.localCopies);
      if (first) await faultPoint('tm.restore.read');
      first = false;
      if (snap.channels) withChannels.push(snap);
      for (const [uid, op] of Object.entries(snap.operators)) {
        if (!ownUids.has(uid)) continue;
        this.restoredUids.add(uid);
        if (op.operator) this.operatorStore(uid).restore([op.operator]);
        if (op.split) splits.set(uid, [...(splits.get(uid) ?? []), op.split]);
        if (op.keyed && uid === headUid && mine && this.keyed && rangesOverlap(op.keyed.range, mine)) await this.keyed.restore([op.keyed]);
      }
    }
    for (const [uid, list] of splits) this.operatorStore(uid).restoreSplit(list, this.ref.subtask, this.deploy.parallelism);
    this.restoreChannelState(withChannels);
    const local = this.localCopies?.stats;
    this.log.info({ task: this.name, backend: this.keyed ? this.stateSettings.type : undefined, checkpointId: this.deploy.restore_checkpoint_id, from: this.deploy.restore_dir, files: handles.length - skipped, skipped, localFiles: local?.read ?? 0, localRejected: local?.rejected ?? 0, ms: Date.now() - started }, 'restored state');
  }

  /** In-flight data of an unaligned checkpoint: outputs go out first, inputs are replayed before new input. */
  private restoreChannelState(snapshots: TaskStateSnapshot[]): void {
    const stored: StoredChannelState[] = snapshots.flatMap((s) =>
      s.channels ? [{ subtask: s.subtask, parallelism: s.parallelism ?? this.deploy.parallelism, state: s.channels }] : [],
    );
    if (stored.length === 0) return;
    replayOutputs(stored, this.ref.subtask, this.deploy.parallelism, this.output.writers);
    const range = this.keyed?.range;
    const keyed = range && this.plan.keySelector ? { keySelector: this.plan.keySelector, maxParallelism: this.deploy.max_parallelism, ...range } : undefined;
    const replay = inputRecordsToReplay(stored, this.ref.subtask, this.deploy.parallelism, keyed, this.serializer);
    this.feeder.addReplay(replay);
    this.recordsIn += replay.reduce((n, b) => n + b.length, 0);
  }

  private operatorStore(uid: string): OperatorStateStore {
    let store = this.operatorStates.get(uid);
    if (!store) this.operatorStates.set(uid, (store = new OperatorStateStore()));
    return store;
  }

  private contextFor(uid: string): OperatorContext {
    const keyed = this.keyed;
    const isHead = uid === this.plan.operatorUids[0];
    const config = this.config;
    return {
      jobId: this.ref.job_id,
      taskName: this.name,
      subtask: this.ref.subtask,
      parallelism: this.deploy.parallelism,
      maxParallelism: this.deploy.max_parallelism,
      attempt: this.ref.attempt,
      isRestored: this.restoredUids.has(uid),
      config,
      getState: <S>(descriptor: StateDescriptor<S>): S => {
        if (!keyed || !isHead) throw new Error(`${this.plan.vertex.name}: keyed state is only available right after keyBy`);
        return keyed.getState(descriptor, uid);
      },
      getUnionListState: (name) => this.operatorStore(uid).getUnionListState(name),
      getListState: (name) => this.operatorStore(uid).getListState(name),
      currentKey: () => keyed?.currentKey(),
    };
  }
}

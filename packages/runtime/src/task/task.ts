import {
  jobCheckpointDirectory,
  keyGroupRangeFor, rangesOverlap, taskName as formatTaskName, type DeployTask, type Logger, type StateHandle, type TaskRef, describeError,
  ContractViolation, RecordSerializer, faultPoint, WeirError,
} from '@weir/core';
import type { OperatorContext, StateDescriptor } from '@weir/api';
import type { VertexPlan } from '@weir/api/src/internal';
import { BarrierAligner, type CheckpointingMode } from '../barrier/aligner';
import { ChangelogChain } from '../checkpoint/changelog-chain';
import { LocalStateCopies } from '../checkpoint/local-recovery';
import { sharedDirectory, sharedFileName } from '../checkpoint/shared-state';
import { checkpointDirectory, discardStateFile, readTaskState, writeStateFile, type TaskStateSnapshot } from '../checkpoint/storage';
import { InputGate } from '../network/input-gate';
import { TaskOutput } from '../network/record-writer';
import { createKeyedBackend, stateBackendSettings, type StateBackendSettings } from '../state/backend-factory';
import type { KeyedCapture, KeyedSnapshot, KeyedStateBackend } from '../state/keyed-backend';
import { OperatorStateStore } from '../state/operator-state';
import { Signal, sleep, yieldToEventLoop } from '../signal';
import path from 'node:path';
import type { JobSourceMap } from '../job-source-map';
import { describeOperator, OperatorChain } from './operator-chain';
import type { TaskEvents } from './task-events';
import { taskFailure } from './task-failure';

const SOURCE_BATCH = 512;
/** Entries of keyed state per state file: a full snapshot of more is written in several. */
const KEYED_PART_ENTRIES = 250_000;

type Command =
  | { kind: 'trigger'; checkpointId: number; timestamp: number; final: boolean }
  | { kind: 'notify'; checkpointId: number; completed: boolean };

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
  /** The job's effective configuration, as every operator sees it. */
  private readonly config: Record<string, string>;
  private cancelled = false;
  private failed = false;
  private lastSnapshotId = 0;
  private completedUpTo = 0;
  private finalCheckpointId = 0;
  private finalCheckpointDone = false;
  private sourceEnded = false;
  recordsIn = 0;
  readonly disconnects: (() => void)[] = [];

  constructor(
    readonly deploy: DeployTask,
    readonly plan: VertexPlan,
    private readonly events: TaskEvents,
    private readonly log: Logger,
    /** The job bundle's source map, so the failure cause names the job's own file and line. */
    private readonly sourceMap?: JobSourceMap,
  ) {
    this.ref = deploy.task;
    this.name = formatTaskName(this.ref.vertex_id, this.ref.subtask, this.ref.attempt);
    this.config = JSON.parse(deploy.config_json || '{}') as Record<string, string>;
    this.serializer = new RecordSerializer(plan.types);
    const lastUid = plan.operatorUids[plan.operatorUids.length - 1] ?? plan.vertex.operators[0]?.uid ?? '';
    this.output = new TaskOutput(this.serializer, describeOperator(plan, lastUid));
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

  trigger(checkpointId: number, timestamp: number, final: boolean): void {
    this.mailbox.push({ kind: 'trigger', checkpointId, timestamp, final });
    this.wakeup.notify();
  }

  notify(checkpointId: number, completed: boolean): void {
    this.mailbox.push({ kind: 'notify', checkpointId, completed });
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
      this.aligner = new BarrierAligner(this.gate.channels, mode, (id, ts, align) => this.snapshot(id, ts, align), () => this.gate.unblockAll());
      this.events.state(this.ref, 'RUNNING');
      const flusher = setInterval(() => this.output.flush(), Math.max(1, this.bufferTimeout()));
      try {
        if (this.isSource) await this.runSource();
        else await this.runInputs();
      } finally {
        clearInterval(flusher);
      }
      if (this.cancelled) return this.cancelledExit();
      await this.chain.finish();
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
    return Number(this.config['execution.buffer-timeout'] ?? 50);
  }

  // ---- sources -------------------------------------------------------------------

  private async runSource(): Promise<void> {
    const source = this.chain.source;
    if (!source) throw new Error(`task ${this.name} has no source`);
    for (;;) {
      await this.handleMailbox();
      if (this.cancelled) return;
      if (!this.output.isAvailable()) {
        await Promise.race([this.output.available.wait(), this.wakeup.wait()]);
        continue;
      }
      const step = await source.emit(this.chain.head, SOURCE_BATCH);
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
    while (!this.cancelled && !this.finalCheckpointDone) {
      await this.handleMailbox();
      if (this.finalCheckpointDone || this.cancelled) break;
      await this.wakeup.wait();
    }
  }

  // ---- inputs --------------------------------------------------------------------

  private async runInputs(): Promise<void> {
    const keyed = this.keyed;
    const keySelector = this.plan.keySelector;
    const head = this.chain.head;
    let sinceYield = 0;
    for (;;) {
      await this.handleMailbox();
      if (this.cancelled) return;
      if (this.gate.error) throw this.gate.error;
      if (!this.output.isAvailable()) {
        await Promise.race([this.output.available.wait(), this.wakeup.wait()]);
        continue;
      }
      const next = this.gate.poll();
      if (!next) {
        if (this.gate.allEnded()) break;
        await Promise.race([this.gate.signal.wait(), this.wakeup.wait()]);
        continue;
      }
      const { channel, item } = next;
      if (item.kind === 'batch') {
        const records = this.serializer.decodeBatch(item.data);
        this.recordsIn += records.length;
        if (keyed && keySelector) {
          for (const record of records) {
            this.setCurrentKey(keyed, keySelector(record));
            head.collect(record);
          }
        } else {
          for (const record of records) head.collect(record);
        }
        channel.returnCredit(1);
        if (++sinceYield >= 4) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      } else if (item.kind === 'barrier') {
        this.aligner?.onBarrier(channel, item.checkpointId, item.timestamp);
      } else {
        channel.ended = true;
        this.aligner?.onEndOfPartition();
      }
    }
    // Inputs ended after the final checkpoint's barrier: wait until it is complete so
    // that sinks have committed before the task finishes.
    if (this.deploy.checkpointing_enabled) {
      while (!this.cancelled && this.completedUpTo < this.lastSnapshotId) {
        await this.handleMailbox();
        if (this.completedUpTo >= this.lastSnapshotId) break;
        await this.wakeup.wait();
      }
    }
  }

  private setCurrentKey(keyed: KeyedStateBackend, key: unknown): void {
    try {
      keyed.setCurrentKey(key);
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
        if (!this.isSource) continue;
        // Only a source that has read everything takes a final checkpoint; one meant for an
        // earlier attempt must not make this one finish without covering its last records.
        if (command.final && this.sourceEnded) this.finalCheckpointId = command.checkpointId;
        this.snapshot(command.checkpointId, command.timestamp, 0);
      } else if (command.completed) {
        this.completedUpTo = Math.max(this.completedUpTo, command.checkpointId);
        this.onCheckpointCompleted(command.checkpointId);
        await this.chain.notifyComplete(command.checkpointId);
        if (this.finalCheckpointId && command.checkpointId >= this.finalCheckpointId) this.finalCheckpointDone = true;
      } else {
        this.aligner?.onAborted(command.checkpointId);
        this.onCheckpointAborted(command.checkpointId);
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
  private snapshot(checkpointId: number, timestamp: number, alignmentMs: number): void {
    const started = performance.now();
    this.lastSnapshotId = Math.max(this.lastSnapshotId, checkpointId);
    try {
      this.chain.snapshotState(checkpointId);
      const range = this.keyed?.range ?? { start: 0, end: -1 };
      const snapshot: TaskStateSnapshot = { vertexId: this.ref.vertex_id, subtask: this.ref.subtask, keyGroupStart: range.start, keyGroupEnd: range.end, operators: {} };
      for (const [uid, store] of this.operatorStates) snapshot.operators[uid] = { operator: store.snapshot() };
      let capture: KeyedCapture | undefined;
      if (this.keyed) {
        const mode = this.changelog ? this.changelog.nextMode(this.keyed.needsFullCapture()) : 'full';
        capture = this.keyed.capture(mode);
        this.changelog?.captured(checkpointId, mode, capture.changes);
      }
      if (this.isSource) faultPoint('tm.source.snapshot');
      this.output.broadcastBarrier(checkpointId, timestamp);
      if (!this.isSource) faultPoint('tm.barrier.forwarded');
      const syncMs = Math.ceil(performance.now() - started); // whole ms, rounded up
      const previous = this.persisting;
      this.persisting = previous.then(() => this.persist(checkpointId, snapshot, capture, syncMs, alignmentMs));
    } catch (err) {
      // A configuration error fails the task by itself; a decline would get the job restarted.
      if (taskFailure(err).kind !== 'config') this.events.decline(this.ref, checkpointId, `${this.name}: snapshot failed: ${describeError(err)}`);
      throw err;
    }
  }

  private async persist(checkpointId: number, snapshot: TaskStateSnapshot, capture: KeyedCapture | undefined, syncMs: number, alignmentMs: number): Promise<void> {
    const started = Date.now();
    const written: StateHandle[] = [];
    try {
      const root = this.deploy.checkpoint_dir;
      const jobId = this.ref.job_id;
      const headUid = this.plan.operatorUids[0];
      let keyedHandles: StateHandle[] = [];
      const chkDir = checkpointDirectory(root, jobId, checkpointId);
      if (capture) {
        // Part by part, so that state larger than memory never is in memory at once.
        const own: StateHandle[] = [];
        let part = 0;
        for await (const keyed of capture.chunks(KEYED_PART_ENTRIES)) {
          if (!this.changelog && part === 0) {
            snapshot.operators[headUid] = { ...snapshot.operators[headUid], keyed };
          } else {
            const file = this.changelog
              ? path.join(sharedDirectory(root, jobId), sharedFileName(this.ref.vertex_id, this.ref.subtask, this.ref.attempt, checkpointId, capture.mode, part))
              : path.join(chkDir, `${snapshot.vertexId}-${snapshot.subtask}-keyed-${part}.state`);
            const keyedOnly: TaskStateSnapshot = { ...snapshot, operators: { [headUid]: { keyed } } };
            const { handle, data } = await writeStateFile(file, keyedOnly, this.serializer);
            written.push(handle);
            own.push(handle);
            void this.localCopies?.keep(handle, data);
          }
          part++;
        }
        keyedHandles = this.changelog ? this.changelog.written(checkpointId, own) : own;
      }
      const file = path.join(chkDir, `${snapshot.vertexId}-${snapshot.subtask}.state`);
      const { handle, data } = await writeStateFile(file, snapshot, this.serializer);
      written.push(handle);
      void this.localCopies?.keep(handle, data);
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
        sync_duration_ms: syncMs,
        async_duration_ms: Date.now() - started,
        alignment_duration_ms: alignmentMs,
        acknowledged_at: Date.now(),
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
    // Handles in order: each old subtask's file, then its chain (full parts, then deltas).
    // One at a time, each applied before the next is read: state larger than memory
    // never is in memory at once.
    let first = true;
    for (const handle of handles) {
      const snap = await readTaskState(handle, this.jobDir, this.serializer, this.localCopies);
      if (first) await faultPoint('tm.restore.read');
      first = false;
      for (const [uid, op] of Object.entries(snap.operators)) {
        if (op.operator) this.operatorStore(uid).restore([op.operator]);
        if (op.keyed && mine && this.keyed && rangesOverlap(op.keyed.range, mine)) await this.keyed.restore([op.keyed]);
      }
    }
    const local = this.localCopies?.stats;
    this.log.info({ task: this.name, checkpointId: this.deploy.restore_checkpoint_id, files: handles.length, localFiles: local?.read ?? 0, localRejected: local?.rejected ?? 0, ms: Date.now() - started }, 'restored state');
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
      isRestored: this.deploy.restore_checkpoint_id > 0,
      config,
      getState: <S>(descriptor: StateDescriptor<S>): S => {
        if (!keyed || !isHead) throw new Error(`${this.plan.vertex.name}: keyed state is only available right after keyBy`);
        return keyed.getState(descriptor, uid);
      },
      getUnionListState: (name) => this.operatorStore(uid).getUnionListState(name),
      currentKey: () => keyed?.currentKey(),
    };
  }
}

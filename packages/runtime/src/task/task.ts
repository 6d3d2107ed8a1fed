import {
  jobCheckpointDirectory,
  keyGroupRangeFor, rangesOverlap, taskName as formatTaskName, type DeployTask, type Logger, type StateHandle, type TaskRef, describeError,
  ContractViolation, RecordSerializer, faultPoint, WeirError,
} from '@weir/core';
import type { OperatorContext, StateDescriptor } from '@weir/api';
import type { VertexPlan } from '@weir/api/src/internal';
import { BarrierAligner, type CheckpointingMode } from '../barrier/aligner';
import { discardStateFile, readTaskState, writeTaskState, type TaskStateSnapshot } from '../checkpoint/storage';
import { InputGate } from '../network/input-gate';
import { TaskOutput } from '../network/record-writer';
import { HeapKeyedStateBackend } from '../state/keyed-backend';
import { OperatorStateStore } from '../state/operator-state';
import { Signal, sleep, yieldToEventLoop } from '../signal';
import type { JobSourceMap } from '../job-source-map';
import { describeOperator, OperatorChain } from './operator-chain';
import type { TaskEvents } from './task-events';
import { taskFailure } from './task-failure';

const SOURCE_BATCH = 512;

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
  private readonly keyed?: HeapKeyedStateBackend;
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
    if (plan.keySelector) {
      this.keyed = new HeapKeyedStateBackend(keyGroupRangeFor(this.ref.subtask, deploy.parallelism, deploy.max_parallelism), deploy.max_parallelism, plan.types);
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

  private setCurrentKey(keyed: HeapKeyedStateBackend, key: unknown): void {
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
        await this.chain.notifyComplete(command.checkpointId);
        if (this.finalCheckpointId && command.checkpointId >= this.finalCheckpointId) this.finalCheckpointDone = true;
      } else {
        this.aligner?.onAborted(command.checkpointId);
        await this.chain.notifyAborted(command.checkpointId);
      }
    }
  }

  /**
   * Synchronous part: operators move their state into state objects, the backends are
   * copied, and the barrier goes downstream. Writing the file happens afterwards, off the
   * record path; the acknowledgement carries the handle and the timings.
   */
  private snapshot(checkpointId: number, timestamp: number, alignmentMs: number): void {
    const started = Date.now();
    this.lastSnapshotId = Math.max(this.lastSnapshotId, checkpointId);
    try {
      this.chain.snapshotState(checkpointId);
      const range = this.keyed?.range ?? { start: 0, end: -1 };
      const snapshot: TaskStateSnapshot = { vertexId: this.ref.vertex_id, subtask: this.ref.subtask, keyGroupStart: range.start, keyGroupEnd: range.end, operators: {} };
      for (const [uid, store] of this.operatorStates) snapshot.operators[uid] = { operator: store.snapshot() };
      if (this.keyed) {
        const headUid = this.plan.operatorUids[0];
        snapshot.operators[headUid] = { ...snapshot.operators[headUid], keyed: this.keyed.snapshot() };
      }
      if (this.isSource) faultPoint('tm.source.snapshot');
      this.output.broadcastBarrier(checkpointId, timestamp);
      if (!this.isSource) faultPoint('tm.barrier.forwarded');
      const syncMs = Date.now() - started;
      void this.persist(checkpointId, snapshot, syncMs, alignmentMs);
    } catch (err) {
      // A configuration error fails the task by itself; a decline would get the job restarted.
      if (taskFailure(err).kind !== 'config') this.events.decline(this.ref, checkpointId, `${this.name}: snapshot failed: ${describeError(err)}`);
      throw err;
    }
  }

  private async persist(checkpointId: number, snapshot: TaskStateSnapshot, syncMs: number, alignmentMs: number): Promise<void> {
    const started = Date.now();
    try {
      const { handle, cost } = await writeTaskState(this.deploy.checkpoint_dir, this.ref.job_id, checkpointId, snapshot, this.serializer);
      await faultPoint('tm.state.written');
      if (this.cancelled) {
        // Nobody will acknowledge this file: leave no garbage behind.
        await discardStateFile(handle, jobCheckpointDirectory(this.deploy.checkpoint_dir, this.ref.job_id));
        return;
      }
      this.events.ack({
        task: this.ref,
        checkpoint_id: checkpointId,
        handles: [handle],
        state_size: handle.size,
        sync_duration_ms: syncMs,
        async_duration_ms: Date.now() - started,
        alignment_duration_ms: alignmentMs,
        acknowledged_at: Date.now(),
        put_count: cost.puts,
        bytes_written: cost.bytes,
      });
    } catch (err) {
      const failure = taskFailure(err);
      // A refused state file would refuse every checkpoint after it: the job fails, once.
      if (failure.kind === 'config' && !this.cancelled) this.events.state(this.ref, 'FAILED', `writing state failed: ${failure.message}`, 'config');
      else this.events.decline(this.ref, checkpointId, `${this.name}: writing state failed: ${describeError(err)}`);
    }
  }

  private async restore(): Promise<void> {
    const handles: StateHandle[] = this.deploy.restore_handles ?? [];
    if (!this.deploy.restore_checkpoint_id || handles.length === 0) return;
    const mine = this.keyed?.range;
    const jobDir = jobCheckpointDirectory(this.deploy.checkpoint_dir, this.ref.job_id);
    const snapshots = await Promise.all(handles.map((h) => readTaskState(h, jobDir, this.serializer)));
    await faultPoint('tm.restore.read');
    const keyedSnaps = new Map<string, TaskStateSnapshot['operators'][string]['keyed'][]>();
    for (const snap of snapshots) {
      for (const [uid, op] of Object.entries(snap.operators)) {
        if (op.operator) this.operatorStore(uid).restore([op.operator]);
        if (op.keyed && mine && rangesOverlap(op.keyed.range, mine)) {
          keyedSnaps.set(uid, [...(keyedSnaps.get(uid) ?? []), op.keyed]);
        }
      }
    }
    if (this.keyed) for (const list of keyedSnaps.values()) this.keyed.restore(list.filter((s) => s !== undefined));
    this.log.info({ task: this.name, checkpointId: this.deploy.restore_checkpoint_id }, 'restored state');
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

import {
  createLogger, describeError, internalChannelCredentials, onFaultPointHit, internalChannelOptions, taskRefKey, type DeployTask, type Logger, type TaskManagerMessage, type TaskRef, type Termination, type TlsMaterial,
} from '@weir/core';
import { setPrintHandler } from '@weir/api/src/internal';
import {
  connectRemoteChannel, loadJobPlan, partitionKey, type LoadedJobPlan, PartitionRegistry, RecordWriter, ResultSubpartition, setExchangeCredentials, startExchangeServer, Task, taskFailure, type TaskEvents,
  type StateFileMerger, type StateFilePlacement, type StateFileRequest,
} from '@weir/runtime';
import { PrintForwarder } from './print-forwarder';

const INITIAL_CREDIT = 4;

export type SlotCommand =
  | { type: 'deploy'; deploy: DeployTask }
  | { type: 'cancel'; task: TaskRef }
  | { type: 'trigger'; task: TaskRef; checkpointId: number; timestamp: number; final: boolean; stop?: boolean }
  | { type: 'notify'; task: TaskRef; checkpointId: number; completed: boolean; savepoint?: boolean; termination?: Termination }
  | { type: 'metrics' }
  | { type: 'state-file-placed'; requestId: number; placement?: StateFilePlacement; error?: string };

export type SlotEvent =
  | { type: 'ready'; port: number }
  | { type: 'state-file'; requestId: number; task: TaskRef; request: StateFileRequest }
  | { type: 'message'; message: Omit<TaskManagerMessage, 'kind'> & Partial<Pick<TaskManagerMessage, 'kind'>> };


/**
 * One slot: its own thread, its own data exchange server, and the tasks deployed into it
 * (one subtask of each vertex at most, like Flink's slot sharing).
 */
export class SlotRuntime {
  private readonly registry = new PartitionRegistry();
  private readonly tasks = new Map<string, Task>();
  private readonly plans = new Map<string, Promise<LoadedJobPlan>>();
  private address = '';
  private readonly log: Logger;
  private readonly send: (event: SlotEvent) => void;
  private readonly printed: PrintForwarder;
  /** State files handed to the TaskManager's merger, waiting for their placement. */
  private readonly placements = new Map<number, { resolve: (p: StateFilePlacement) => void; reject: (err: Error) => void }>();
  private nextRequestId = 1;

  constructor(
    private readonly slotIndex: number,
    send: (event: SlotEvent) => void,
  ) {
    this.log = createLogger(`taskmanager-slot-${slotIndex}`);
    onFaultPointHit((point, action) => this.log.warn({ point, action: action.kind, slot: slotIndex }, 'fault point hit'));
    this.printed = new PrintForwarder((job_id, lines) => send({ type: 'message', message: { output: { job_id, lines } } as never }));
    // Whatever the slot reports goes after the lines printed before it.
    this.send = (event) => {
      this.printed.flush();
      send(event);
    };
    // print(): the TaskManager's stdout, as in Flink, and the JobManager for attached clients.
    setPrintHandler((jobId, line) => {
      process.stdout.write(`${line}\n`);
      this.printed.add(jobId, line);
    });
  }

  async start(bindHost: string, port: number, advertisedHost: string, tls?: TlsMaterial): Promise<number> {
    setExchangeCredentials(internalChannelCredentials(tls), internalChannelOptions(tls));
    const { port: bound } = await startExchangeServer(this.registry, `${bindHost}:${port}`, this.log, tls);
    this.address = `${advertisedHost}:${bound}`;
    return bound;
  }

  handle(command: SlotCommand): void {
    switch (command.type) {
      case 'deploy':
        void this.deploy(command.deploy);
        return;
      case 'cancel':
        this.tasks.get(taskRefKey(command.task))?.cancel();
        return;
      case 'trigger':
        this.tasks.get(taskRefKey(command.task))?.trigger(command.checkpointId, command.timestamp, command.final, command.stop);
        return;
      case 'notify':
        this.tasks.get(taskRefKey(command.task))?.notify(command.checkpointId, command.completed, { savepoint: command.savepoint, termination: command.termination });
        return;
      case 'state-file-placed': {
        const waiting = this.placements.get(command.requestId);
        this.placements.delete(command.requestId);
        if (command.placement) waiting?.resolve(command.placement);
        else waiting?.reject(new Error(command.error ?? 'the state file was not written'));
        return;
      }
      case 'metrics':
        this.send({
          type: 'message',
          message: {
            metrics: {
              tasks: [...this.tasks.values()].map((t) => ({ task: t.ref, records_in: t.recordsIn, records_out: t.recordsOut, output_buffer_usage: t.output.usage() })),
            },
          } as never,
        });
    }
  }

  private events(): TaskEvents {
    const post = (message: unknown) => this.send({ type: 'message', message: message as never });
    return {
      state: (task, state, error, errorKind) => post({ task_state: { task, state, error: error ?? '', timestamp: Date.now(), error_kind: errorKind ?? '' } }),
      ack: (ack) => post({ ack }),
      decline: (task, checkpoint_id, reason) => post({ decline: { task, checkpoint_id, reason } }),
      sourceExhausted: (task) => post({ source_exhausted: { task } }),
    };
  }

  /** A task's state files go to the TaskManager's thread, which merges them with its other tasks' files. */
  private mergerFor(task: TaskRef): StateFileMerger {
    return (request) => new Promise<StateFilePlacement>((resolve, reject) => {
      const requestId = this.nextRequestId++;
      this.placements.set(requestId, { resolve, reject });
      this.send({ type: 'state-file', requestId, task, request });
    });
  }

  private planFor(deploy: DeployTask): Promise<LoadedJobPlan> {
    const key = `${deploy.task.job_id}@${deploy.task.attempt}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const config = JSON.parse(deploy.config_json || '{}') as Record<string, string>;
      plan = loadJobPlan(Buffer.from(deploy.job_bundle).toString('utf8'), deploy.job_args, {
        parallelism: Number(config['parallelism.default'] ?? 1),
        maxParallelism: Number(config['pipeline.max-parallelism'] ?? 128),
      }, `job-${deploy.task.job_id}.js`); // one file name per job: frames of two jobs in this thread never mix
      this.plans.set(key, plan);
      // Older attempts' plans and partitions are dead weight now.
      for (const k of this.plans.keys()) if (k.startsWith(`${deploy.task.job_id}@`) && k !== key) this.plans.delete(k);
      this.registry.releaseJob(deploy.task.job_id, deploy.task.attempt);
    }
    return plan;
  }

  private async deploy(deploy: DeployTask): Promise<void> {
    const ref = deploy.task;
    const events = this.events();
    let task: Task;
    let plan: LoadedJobPlan;
    try {
      plan = await this.planFor(deploy);
      const vertexPlan = plan.vertices.get(ref.vertex_id);
      if (!vertexPlan) throw new Error(`the job's graph has no vertex ${ref.vertex_id}: the job function must build the same graph every time`);
      task = new Task(deploy, vertexPlan, events, this.log, plan.sourceMap, this.mergerFor(ref));
    } catch (err) {
      const failure = taskFailure(err);
      events.state(ref, 'FAILED', failure.message, failure.kind);
      return;
    }
    this.tasks.set(taskRefKey(ref), task);
    this.wireOutputs(task, deploy, plan);
    this.wireInputs(task, deploy);
    this.log.info({ task: task.name, slot: this.slotIndex }, 'task deployed');
    await task.run();
    this.tasks.delete(taskRefKey(ref));
    this.releaseAfter(task, deploy);
  }

  /**
   * Forgets a finished task's partitions once its consumers have read them to the end
   * (at most a minute), a failed or cancelled task's at once, and the job's plan when no
   * task of the job is left in this slot.
   */
  private releaseAfter(task: Task, deploy: DeployTask): void {
    const ref = deploy.task;
    const keys = deploy.outputs.map((o) => partitionKey(ref.job_id, ref.attempt, ref.vertex_id, ref.subtask, o.consumer_vertex_id));
    const deadline = Date.now() + 60_000;
    const release = () => {
      const drained = task.output.writers.every((w) => w.subpartitions.every((s) => s.finished));
      if (!drained && Date.now() < deadline && !task.cancelledOrFailed) {
        setTimeout(release, 1000).unref();
        return;
      }
      for (const key of keys) this.registry.unregister(key);
      const jobLeft = [...this.tasks.values()].some((t) => t.ref.job_id === ref.job_id);
      if (!jobLeft) this.plans.delete(`${ref.job_id}@${ref.attempt}`);
    };
    release();
  }

  private wireOutputs(task: Task, deploy: DeployTask, jobPlan: LoadedJobPlan): void {
    const ref = deploy.task;
    for (const out of deploy.outputs) {
      const count = out.partitioning === 'FORWARD' ? 1 : out.consumer_parallelism;
      const subpartitions = Array.from({ length: count }, () => new ResultSubpartition(() => task.output.available.notify()));
      // Debloating: start with the smallest batches; the consumer asks for larger ones as it
      // measures its throughput, before full-size batches could pile up in front of a barrier.
      if (task.network.debloat) for (const s of subpartitions) s.batchBytes = task.network.minSegmentSize;
      const key = partitionKey(ref.job_id, ref.attempt, ref.vertex_id, ref.subtask, out.consumer_vertex_id);
      this.registry.register({ key, subpartitions, token: deploy.exchange_token });
      const keySelector = task.plan.outputKeySelectors.get(out.consumer_vertex_id);
      const head = jobPlan.vertices.get(out.consumer_vertex_id)?.vertex.operators[0];
      const keyedConsumer = `the key selector of ${head?.name ?? out.consumer_vertex_id} (uid ${head?.uid ?? '?'})`;
      task.output.add(
        new RecordWriter(subpartitions, out.partitioning, keySelector, deploy.max_parallelism, ref.subtask, task.serializer, keyedConsumer, task.network.segmentSize, out.consumer_vertex_id),
      );
    }
  }

  private wireInputs(task: Task, deploy: DeployTask): void {
    const ref = deploy.task;
    for (const input of deploy.inputs) {
      const description = `${input.producer_vertex_id}#${input.producer_subtask} -> ${task.name}`;
      const channel = task.gate.addChannel(description);
      const key = partitionKey(ref.job_id, ref.attempt, input.producer_vertex_id, input.producer_subtask, ref.vertex_id);
      if (input.producer_address === this.address) {
        void this.registry.lookup(key, 30_000).then((partition) => {
          const sub = partition?.subpartitions[input.subpartition];
          if (!sub) return channel.fail(new Error(`input channel ${description}: no local partition ${key}`));
          channel.returnCredit = (n) => sub.addCredit(n);
          channel.requestBatchBytes = (bytes) => void (sub.batchBytes = bytes);
          sub.attach(channel, INITIAL_CREDIT, true);
        });
      } else {
        const cancel = connectRemoteChannel(
          input.producer_address,
          {
            job_id: ref.job_id, attempt: ref.attempt, producer_vertex_id: input.producer_vertex_id, producer_subtask: input.producer_subtask,
            consumer_vertex_id: ref.vertex_id, consumer_subtask: input.subpartition, initial_credit: INITIAL_CREDIT, token: deploy.exchange_token,
          },
          channel,
        );
        task.disconnects.push(cancel);
      }
    }
  }
}

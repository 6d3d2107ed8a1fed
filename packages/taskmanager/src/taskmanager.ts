import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  CHANNEL_OPTIONS, ConfigError, createLogger, describeError, faultPoint, onFaultPointHit, grpc, internalChannelCredentials, internalChannelOptions, internalTls, protos, taskRefKey, type Configuration, type JobManagerMessage, type Logger, type SlotInfo, type TaskMetrics, type TaskRef,
} from '@weir/core';
import type { Termination } from '@weir/core';
import { configureCheckpointStorage, storageSettingsFrom } from '@weir/runtime';
import { TaskManagerMetrics } from './metrics/taskmanager-metrics';
import type { SlotCommand, SlotEvent } from './slot-runtime';
import type { SlotWorkerData } from './slot-worker';
import { StateFileMerger } from './state-file-merger';

/**
 * Young generation of a slot's thread (V8's default gives it 32 MB). Records are short
 * lived; a larger young generation is collected less often for the same few survivors:
 * the keyed benchmark ran 10.2 M records/s with 64 MB against 8.5 M/s with the default
 * (4 quick runs each, docs/benchmarks.md). 128 MB measured the same as 64.
 */
const SLOT_YOUNG_GENERATION_MB = 64;

export interface TaskManagerOptions {
  jobmanager: string;
  config: Configuration;
  /** The script a slot thread runs (the weir bundle itself). */
  workerScript: string;
}

export interface RunningTaskManager {
  id: string;
  slots: SlotInfo[];
  metricsPort: number;
  stop(): Promise<void>;
}


function defaultAdvertisedHost(): string {
  // In a container other TaskManagers reach us by hostname; on one machine loopback is safest.
  return process.env.WEIR_IN_CONTAINER ? os.hostname() : '127.0.0.1';
}

/**
 * A TaskManager process: one thread per slot, and one session with the JobManager that
 * carries registration, heartbeats and every control message. If the session breaks, the
 * TaskManager cancels its tasks and registers again.
 */
export async function startTaskManager(options: TaskManagerOptions): Promise<RunningTaskManager> {
  const { config } = options;
  const log = createLogger('taskmanager', config.getString('log.level'));
  onFaultPointHit((point, action) => log.warn({ point, action: action.kind }, 'fault point hit'));
  const id = `tm-${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const slotCount = config.getNumber('taskmanager.numberOfTaskSlots');
  const advertisedHost = config.getOptionalString('taskmanager.host') ?? defaultAdvertisedHost();
  const basePort = config.getNumber('taskmanager.data.port');
  const tls = internalTls(config);
  const workers: Worker[] = [];
  const slots: SlotInfo[] = [];
  const taskSlots = new Map<string, { slot: number; task: TaskRef }>();
  let session: grpc.ClientDuplexStream<unknown, JobManagerMessage> | undefined;
  let stopped = false;
  let lastJobManagerHeartbeat = Date.now();
  const metrics = new TaskManagerMetrics(id);
  const metricsAddress = `${config.getString('taskmanager.bind-host')}:${config.getNumber('metrics.reporter.prom.port')}`;
  const metricsServer = await metrics.listen(config.getString('taskmanager.bind-host'), config.getNumber('metrics.reporter.prom.port')).catch((err: Error) => {
    throw new ConfigError(`cannot serve metrics on ${metricsAddress} (metrics.reporter.prom.port): ${err.message}`);
  });

  const sendToJobManager = (message: Record<string, unknown>) => session?.write(message);
  // Merged state files are written from this thread: it needs the storage settings too.
  configureCheckpointStorage(storageSettingsFrom(config));
  const merger = new StateFileMerger(id, (jobId, attempt) => [...taskSlots.values()].filter((t) => t.task.job_id === jobId && t.task.attempt === attempt).length);

  for (let i = 0; i < slotCount; i++) {
    const data: SlotWorkerData = { role: 'weir-slot', slotIndex: i, bindHost: config.getString('taskmanager.bind-host'), port: basePort ? basePort + i : 0, advertisedHost, tls, storage: storageSettingsFrom(config) };
    const worker = new Worker(options.workerScript, { workerData: data, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: SLOT_YOUNG_GENERATION_MB } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', (err: Error) => reject(new ConfigError(`slot ${i} cannot serve data exchange on ${data.bindHost}:${data.port}${tls ? ' (check the security.ssl.internal certificate and key)' : ''}: ${err.message}`)));
      worker.once('message', (event: SlotEvent) => (event.type === 'ready' ? resolve(event.port) : reject(new Error('slot did not start'))));
    });
    worker.on('message', (event: SlotEvent) => {
      if (event.type === 'state-file') {
        const { requestId, task, request } = event;
        merger.add(task.job_id, task.attempt, request).then(
          (placement) => worker.postMessage({ type: 'state-file-placed', requestId, placement } satisfies SlotCommand),
          (err: Error) => worker.postMessage({ type: 'state-file-placed', requestId, error: describeError(err) } satisfies SlotCommand),
        );
        return;
      }
      if (event.type !== 'message') return;
      const m = event.message as {
        task_state?: { task: TaskRef; state: string }; metrics?: { tasks: TaskMetrics[] };
        ack?: { task: TaskRef; checkpoint_id: number; handles: { path: string }[] }; decline?: { task: TaskRef; checkpoint_id: number };
      };
      // A task done with a checkpoint without a state file of its own (the first handle; keyed
      // files after it are never merged): its merge batch need not wait for it.
      const done = m.ack && !m.ack.handles[0]?.path ? m.ack : m.decline;
      if (done) merger.reportedWithoutFile(done.task.job_id, done.task.attempt, done.checkpoint_id);
      if (m.metrics) metrics.report(i, m.metrics.tasks);
      if (m.task_state && ['FINISHED', 'CANCELED', 'FAILED'].includes(m.task_state.state)) taskSlots.delete(taskRefKey(m.task_state.task));
      if ((m as { ack?: unknown }).ack) session?.write(event.message, () => void faultPoint('tm.ack.sent'));
      else sendToJobManager(event.message as Record<string, unknown>);
    });
    worker.on('error', (err) => {
      log.fatal({ err, slot: i }, 'slot thread crashed');
      process.exit(1);
    });
    workers.push(worker);
    slots.push({ index: i, data_address: `${advertisedHost}:${port}` });
  }

  const toSlot = (slot: number | undefined, command: SlotCommand) => {
    if (slot !== undefined) workers[slot]?.postMessage(command);
  };

  const cancelAll = () => {
    for (const { slot, task } of taskSlots.values()) toSlot(slot, { type: 'cancel', task });
    taskSlots.clear();
  };

  const onMessage = (msg: JobManagerMessage) => {
    lastJobManagerHeartbeat = Date.now();
    switch (msg.kind) {
      case 'registered':
        log.info({ taskmanager: id, jobmanager: options.jobmanager }, 'registered with JobManager');
        return;
      case 'deploy':
        taskSlots.set(taskRefKey(msg.deploy.task), { slot: msg.deploy.slot, task: msg.deploy.task });
        return toSlot(msg.deploy.slot, { type: 'deploy', deploy: msg.deploy });
      case 'cancel':
        return toSlot(taskSlots.get(taskRefKey(msg.cancel.task))?.slot, { type: 'cancel', task: msg.cancel.task });
      case 'trigger':
        return toSlot(taskSlots.get(taskRefKey(msg.trigger.task))?.slot, { type: 'trigger', task: msg.trigger.task, checkpointId: msg.trigger.checkpoint_id, timestamp: msg.trigger.timestamp, final: msg.trigger.final, stop: msg.trigger.stop });
      case 'notify':
        return toSlot(taskSlots.get(taskRefKey(msg.notify.task))?.slot, { type: 'notify', task: msg.notify.task, checkpointId: msg.notify.checkpoint_id, completed: msg.notify.completed, savepoint: msg.notify.savepoint, termination: msg.notify.termination as Termination });
    }
  };

  type SessionClient = { Session(): grpc.ClientDuplexStream<unknown, JobManagerMessage>; close(): void };
  const initialBackoffMs = config.getNumber('cluster.registration.initial-timeout');
  const maxBackoffMs = config.getNumber('cluster.registration.max-timeout');
  // A reused channel backs off on its own (past 1 s after ~20 s of outage, up to minutes):
  // every try gets a fresh channel whose own backoff is capped too, so the pause between
  // tries is ours, and bounded by cluster.registration.max-timeout.
  const newClient = () =>
    new (protos().JobManagerService)(options.jobmanager, internalChannelCredentials(tls), {
      ...CHANNEL_OPTIONS,
      ...internalChannelOptions(tls),
      'grpc.initial_reconnect_backoff_ms': Math.min(initialBackoffMs, maxBackoffMs),
      'grpc.max_reconnect_backoff_ms': maxBackoffMs,
    }) as unknown as SessionClient;
  let client = newClient();
  let backoffMs = initialBackoffMs;
  const heartbeatMs = config.getNumber('heartbeat.interval');
  const timeoutMs = config.getNumber('heartbeat.timeout');

  const connect = () => {
    if (stopped) return;
    const call = client.Session();
    session = call;
    lastJobManagerHeartbeat = Date.now();
    let ended = false;
    let registered = false;
    const lost = (reason: string) => {
      if (ended) return;
      ended = true;
      if (session === call) session = undefined;
      if (stopped) return;
      if (registered) log.warn({ reason }, 'JobManager session lost; cancelling tasks and registering again');
      cancelAll();
      backoffMs = registered ? initialBackoffMs : Math.min(maxBackoffMs, backoffMs * 2);
      client.close();
      client = newClient();
      setTimeout(connect, registered ? initialBackoffMs : backoffMs);
    };
    call.on('data', (msg: JobManagerMessage) => {
      if (msg.kind === 'registered') {
        registered = true;
        backoffMs = initialBackoffMs;
      }
      onMessage(msg);
    });
    call.on('error', (err: Error) => lost(err.message));
    call.on('end', () => lost('session ended by the JobManager'));
    call.write({ register: { taskmanager_id: id, host: advertisedHost, slots, metrics_port: metricsServer.port, pid: process.pid } });
  };
  connect();

  const ticker = setInterval(() => {
    sendToJobManager({ heartbeat: { timestamp: Date.now() } });
    for (const w of workers) w.postMessage({ type: 'metrics' } satisfies SlotCommand);
    if (session && Date.now() - lastJobManagerHeartbeat > timeoutMs) session.cancel();
  }, Math.min(heartbeatMs, 1000));

  log.info({ taskmanager: id, slots: slots.map((s) => s.data_address), jobmanager: options.jobmanager, metricsPort: metricsServer.port }, 'TaskManager started');
  return {
    id,
    slots,
    metricsPort: metricsServer.port,
    stop: async () => {
      stopped = true;
      clearInterval(ticker);
      await metricsServer.close();
      session?.end();
      client.close();
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

export type { Logger };

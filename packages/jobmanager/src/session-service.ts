import { grpc, type JobManagerMessage, type Logger, type TaskManagerMessage, type TaskRef } from '@weir/core';
import { acceptAcknowledgement, jobOfOwnTask, jobRunningOn } from './auth/session-identity';
import type { Dispatcher } from './dispatcher';
import type { ResourceManager } from './resource-manager';

/**
 * The TaskManager's session: it registers, then heartbeats, task states, checkpoint
 * acknowledgements and declines arrive here; deployments and triggers go back.
 */
export function sessionHandler(rm: ResourceManager, dispatcher: Dispatcher, heartbeatIntervalMs: number, jobmanagerId: string, log: Logger) {
  return (call: grpc.ServerDuplexStream<TaskManagerMessage, JobManagerMessage>) => {
    let taskmanagerId: string | undefined;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let closed = false;
    const close = (reason: string) => {
      if (closed) return;
      closed = true;
      if (heartbeat) clearInterval(heartbeat);
      if (taskmanagerId) rm.markLost(taskmanagerId, reason);
    };
    call.on('data', (msg: TaskManagerMessage) => {
      try {
        if (msg.kind === 'register') {
          const id = msg.register.taskmanager_id;
          if (!id) throw new Error('register without taskmanager_id');
          if (taskmanagerId) return; // registered already on this session
          // One session per id: a second registration must not evict a live TaskManager.
          if (rm.get(id)) {
            log.warn({ taskmanager: id, peer: call.getPeer() }, 'registration refused: that TaskManager id is live');
            closed = true;
            call.emit('error', { code: grpc.status.ALREADY_EXISTS, details: `TaskManager ${id} is already registered` });
            return;
          }
          taskmanagerId = id;
          rm.register(msg.register, (m) => !closed && call.write(m as JobManagerMessage), () => {
            closed = true;
            if (heartbeat) clearInterval(heartbeat);
            call.end();
          });
          call.write({ registered: { jobmanager_id: jobmanagerId, heartbeat_interval_ms: heartbeatIntervalMs } } as never);
          heartbeat = setInterval(() => call.write({ heartbeat: { timestamp: Date.now() } } as never), heartbeatIntervalMs);
          return;
        }
        if (!taskmanagerId) {
          call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'register first' });
          return;
        }
        rm.heartbeat(taskmanagerId);
        const own = (task: TaskRef) => jobOfOwnTask(dispatcher, taskmanagerId as string, task);
        switch (msg.kind) {
          case 'task_state':
            own(msg.task_state.task)?.onTaskState(msg.task_state);
            break;
          case 'ack': {
            const job = acceptAcknowledgement(dispatcher, taskmanagerId, msg.ack);
            if (job) void job.coordinator.receiveAck(msg.ack);
            else log.warn({ taskmanager: taskmanagerId, checkpointId: msg.ack.checkpoint_id }, 'acknowledgement refused: not this TaskManager\'s task, or a state file outside the checkpoint directory');
            break;
          }
          case 'decline':
            own(msg.decline.task)?.coordinator.receiveDecline(msg.decline);
            break;
          case 'source_exhausted':
            own(msg.source_exhausted.task)?.onSourceExhausted(msg.source_exhausted.task);
            break;
          case 'output':
            jobRunningOn(dispatcher, taskmanagerId, msg.output.job_id)?.output.append(msg.output.lines);
            break;
          case 'metrics':
            for (const t of msg.metrics.tasks) own(t.task)?.onMetrics([t]);
            break;
        }
      } catch (err) {
        log.warn({ taskmanager: taskmanagerId, err: (err as Error).message }, 'malformed session message');
      }
    });
    call.on('end', () => close('session closed by the TaskManager'));
    call.on('cancelled', () => close('session cancelled (connection lost)'));
    call.on('error', (err) => close(`session broke: ${err.message}`));
    call.on('close', () => close('session closed'));
  };
}

import { grpc, type JobManagerMessage, type Logger, type TaskManagerMessage } from '@weir/core';
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
          taskmanagerId = msg.register.taskmanager_id;
          if (!taskmanagerId) throw new Error('register without taskmanager_id');
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
        const jobOf = (jobId: string) => dispatcher.jobs.get(jobId);
        switch (msg.kind) {
          case 'task_state':
            jobOf(msg.task_state.task.job_id)?.onTaskState(msg.task_state);
            break;
          case 'ack':
            void jobOf(msg.ack.task.job_id)?.coordinator.receiveAck(msg.ack);
            break;
          case 'decline':
            jobOf(msg.decline.task.job_id)?.coordinator.receiveDecline(msg.decline);
            break;
          case 'source_exhausted':
            jobOf(msg.source_exhausted.task.job_id)?.onSourceExhausted(msg.source_exhausted.task);
            break;
          case 'output':
            jobOf(msg.output.job_id)?.output.append(msg.output.lines);
            break;
          case 'metrics':
            for (const t of msg.metrics.tasks) jobOf(t.task.job_id)?.onMetrics([t]);
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

import { JobError } from '@weir/core';
import type { CheckpointTaskStats } from '@weir/jobmanager/src/checkpoint/checkpoint-stats';
import { withClient } from '../client';
import { bytes, table, time } from '../table';

function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

type Summary = { job_id: string; name: string; state: string; start_time: number; end_time: number; parallelism: number; restarts: number };

/** This JobManager's jobs, newest first (as REST /jobs); `all` adds jobs that ended under an earlier one. */
export async function listJobs(address: string, json: boolean, all = false): Promise<void> {
  const res = await withClient(address, (c) => c.call<{ jobs: Summary[] }>('ListJobs', { include_archived: all }));
  print(json, res.jobs, () =>
    res.jobs.length === 0
      ? 'No jobs.'
      : table(['JOB ID', 'NAME', 'STATE', 'STARTED', 'PARALLELISM', 'RESTARTS'], res.jobs.map((j) => [j.job_id, j.name, j.state, time(j.start_time), j.parallelism, j.restarts])),
  );
}

interface Details {
  summary: Summary;
  vertices: { id: string; name: string; parallelism: number; state: string; subtasks: { subtask: number; state: string; taskmanager_id: string; attempt: number; records_in: number; records_out: number }[] }[];
  failure_cause: string;
  last_restore_timestamp: number;
  last_restore_checkpoint_id: number;
  last_restore_path: string;
  last_restore_checkpoint_timestamp: number;
  restart_timestamps: number[];
  exceptions: { timestamp: number; task: string; taskmanager_id: string; root_cause: string }[];
  attempt: number;
  last_savepoint_path: string;
  restored_from: string;
}

export async function jobStatus(address: string, jobId: string, json: boolean): Promise<void> {
  const d = await withClient(address, (c) => c.call<Details>('GetJob', { job_id: jobId }));
  print(json, d, () => {
    const lines = [
      `Job ${d.summary.job_id} (${d.summary.name}): ${d.summary.state}`,
      `Started: ${time(d.summary.start_time)}   Attempt: ${d.attempt}   Restarts: ${d.summary.restarts}`,
      `Last restore: ${d.last_restore_checkpoint_id ? restoreLine(d) : 'none'}`,
    ];
    if (d.restored_from) lines.push(`Started from: ${d.restored_from}`);
    if (d.last_savepoint_path) lines.push(`Last savepoint: ${d.last_savepoint_path}`);
    if (d.failure_cause) lines.push(`Failure cause: ${d.failure_cause}`);
    lines.push('', table(
      ['VERTEX', 'NAME', 'SUBTASK', 'STATE', 'TASKMANAGER', 'RECORDS IN', 'RECORDS OUT'],
      d.vertices.flatMap((v) => v.subtasks.map((s) => [v.id, v.name, `${s.subtask + 1}/${v.parallelism}`, s.state, s.taskmanager_id || '-', s.records_in, s.records_out])),
    ));
    if (d.exceptions.length) {
      lines.push('', 'Exception history:', table(['TIME', 'TASK', 'TASKMANAGER', 'ROOT CAUSE'], d.exceptions.map((e) => [time(e.timestamp), e.task || '-', e.taskmanager_id || '-', e.root_cause.split('\n')[0]])));
    }
    return lines.join('\n');
  });
}

function restoreLine(d: Details): string {
  const completed = d.last_restore_checkpoint_timestamp ? `completed at ${time(d.last_restore_checkpoint_timestamp)}` : 'completion time unknown';
  return `checkpoint ${d.last_restore_checkpoint_id} (${completed}), restored at ${time(d.last_restore_timestamp)} (${d.last_restore_path})`;
}

export async function cancelJob(address: string, jobId: string, json: boolean): Promise<void> {
  const res = await withClient(address, (c) => c.call<{ state: string }>('CancelJob', { job_id: jobId }));
  print(json, { job_id: jobId, ...res }, () => `Job ${jobId}: ${res.state}`);
}

interface Stats {
  id: number; status: string; acknowledged: number; total: number; trigger_timestamp: number; end_to_end_duration_ms: number;
  state_size: number; checkpointed_size?: number; max_alignment_ms: number; failure_reason: string; failed_task: string; path: string; final: boolean; is_savepoint: boolean;
  tasks?: CheckpointTaskStats[];
  put_count: number; bytes_written: number;
}
interface Checkpoints {
  completed: number; failed: number; in_progress: number; restored: number; latest_completed?: Stats; latest_failed?: Stats; history: Stats[];
  latest_restored_id: number; latest_restored_timestamp: number; latest_savepoint?: Stats;
}

export async function checkpoints(address: string, jobId: string, json: boolean): Promise<void> {
  const c = await withClient(address, (cl) => cl.call<Checkpoints>('GetCheckpoints', { job_id: jobId }));
  print(json, c, () => {
    const lines = [
      `Checkpoints of job ${jobId}`,
      `Completed: ${c.completed}   Failed: ${c.failed}   In progress: ${c.in_progress}   Restored: ${c.restored}`,
      `Latest completed: ${c.latest_completed ? `${c.latest_completed.id} at ${c.latest_completed.path}` : 'none'}`,
      `Latest restored: ${c.latest_restored_id ? `checkpoint ${c.latest_restored_id}, restored at ${time(c.latest_restored_timestamp)}` : 'none'}`,
      `Latest savepoint: ${c.latest_savepoint ? `${c.latest_savepoint.id} at ${c.latest_savepoint.path}` : 'none'}`,
      '',
      table(
        ['ID', 'STATUS', 'ACKED', 'TRIGGERED', 'DURATION', 'CHECKPOINTED', 'STATE SIZE', 'PUTS', 'WRITTEN', 'MAX ALIGNMENT', 'FAILURE / PATH'],
        c.history.map((h) => [
          `${h.id}${h.final ? ' (final)' : ''}${h.is_savepoint ? ' (savepoint)' : ''}`, h.status, `${h.acknowledged}/${h.total}`, time(h.trigger_timestamp),
          h.status === 'IN_PROGRESS' ? '-' : `${h.end_to_end_duration_ms} ms`, bytes(Number(h.checkpointed_size ?? h.state_size)), bytes(h.state_size),
          String(h.put_count ?? 0), bytes(h.bytes_written ?? 0), `${h.max_alignment_ms} ms`,
          h.status === 'FAILED' ? `${h.failure_reason}${h.failed_task ? ` [task: ${h.failed_task}]` : ''}` : h.is_savepoint ? h.path : '',
        ]),
      ),
    ];
    return lines.join('\n');
  });
}

/** `weir checkpoints <job> --details <id>`: where each subtask spent the checkpoint's time. */
export async function checkpointDetails(address: string, jobId: string, checkpointId: string, json: boolean): Promise<void> {
  const id = Number(checkpointId);
  if (!Number.isInteger(id) || id <= 0) throw new JobError(`--details takes a checkpoint id (a whole number above 0), not "${checkpointId}"`);
  const c = await withClient(address, (cl) => cl.call<Checkpoints>('GetCheckpoints', { job_id: jobId }));
  const s = c.history.find((h) => Number(h.id) === id);
  if (!s) throw new JobError(`job ${jobId} has no statistics for checkpoint ${id}`);
  const { checkpointSubtaskRows } = await import('@weir/jobmanager');
  const rows = checkpointSubtaskRows({ trigger_timestamp: Number(s.trigger_timestamp), tasks: s.tasks ?? [] });
  const critical = rows.find((r) => r.critical_path);
  print(json, { ...s, tasks: undefined, subtasks: rows, critical_path_task: critical?.task ?? null }, () =>
    [
      `Checkpoint ${id} of job ${jobId}: ${s.status}, ${s.acknowledged}/${s.total} acknowledged${s.status === 'IN_PROGRESS' ? '' : `, ${s.end_to_end_duration_ms} ms end to end`}`,
      critical ? `Finished last (the checkpoint waited for it): ${critical.task}, ${critical.end_to_end_duration_ms} ms after the trigger` : 'No subtask acknowledged it.',
      '',
      table(
        ['SUBTASK', 'END TO END', 'START DELAY', 'ALIGNMENT', 'SYNC', 'ASYNC', 'STATE', 'IN-FLIGHT DATA', 'BARRIERS', ''],
        rows.map((r) => [
          r.task, `${r.end_to_end_duration_ms} ms`, `${r.start_delay_ms} ms`, `${r.alignment_duration_ms} ms`, `${r.sync_duration_ms} ms`, `${r.async_duration_ms} ms`,
          bytes(r.state_size), bytes(r.persisted_data_bytes), r.unaligned ? 'unaligned' : 'aligned', r.critical_path ? '<- last' : '',
        ]),
      ),
    ].join('\n'),
  );
}

type Tm = { id: string; host: string; slots: number; free_slots: number; last_heartbeat: number; registered_at: number; pid: number };

export async function listTaskManagers(address: string, json: boolean): Promise<void> {
  const res = await withClient(address, (c) => c.call<{ taskmanagers: Tm[] }>('ListTaskManagers', {}));
  print(json, res.taskmanagers, () =>
    res.taskmanagers.length === 0
      ? 'No TaskManagers registered.'
      : table(['ID', 'HOST', 'PID', 'SLOTS', 'FREE', 'REGISTERED', 'LAST HEARTBEAT'], res.taskmanagers.map((t) => [t.id, t.host, t.pid, t.slots, t.free_slots, time(t.registered_at), time(t.last_heartbeat)])),
  );
}

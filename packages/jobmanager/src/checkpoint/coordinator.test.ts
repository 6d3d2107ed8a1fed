import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AcknowledgeCheckpoint, TaskRef } from '@weir/core';
import { CheckpointIdCounter } from './checkpoint-id-counter';
import { CheckpointStatsTracker } from './checkpoint-stats';
import { CompletedCheckpointStore } from './completed-store';
import { CheckpointCoordinator, type CheckpointParticipants, type CheckpointSettings } from './coordinator';

const JOB = 'job-1';
const T0 = 1_000_000;
const log = pino({ level: 'silent' });

const ref = (vertex: string, subtask: number, attempt = 1): TaskRef => ({ job_id: JOB, vertex_id: vertex, subtask, attempt });

/** Stands in for the job master: records what the coordinator asks of the tasks. */
class FakeParticipants implements CheckpointParticipants {
  attempt = 1;
  running = true;
  readonly triggers: { task: string; id: number; timestamp: number; final: boolean }[] = [];
  readonly notifies: { task: string; id: number; completed: boolean }[] = [];
  readonly failures: string[] = [];

  constructor(private readonly root: string) {}

  tasks(): { sources: TaskRef[]; all: TaskRef[] } {
    const src = ref('src', 0, this.attempt);
    return { sources: [src], all: [src, ref('sink', 0, this.attempt), ref('sink', 1, this.attempt)] };
  }

  runningTasks() {
    return this.running ? { attempt: this.attempt, ...this.tasks() } : undefined;
  }

  currentTasks(): TaskRef[] {
    return this.tasks().all;
  }

  trigger(task: TaskRef, checkpointId: number, timestamp: number, final: boolean): void {
    // Real tasks write their state files into chk-<n> before they acknowledge.
    mkdirSync(path.join(this.root, JOB, `chk-${checkpointId}`), { recursive: true });
    this.triggers.push({ task: `${task.vertex_id}#${task.subtask}`, id: checkpointId, timestamp, final });
  }

  notify(task: TaskRef, checkpointId: number, completed: boolean): void {
    this.notifies.push({ task: `${task.vertex_id}#${task.subtask}`, id: checkpointId, completed });
  }

  failJob(reason: string): void {
    this.failures.push(reason);
  }
}

function ack(id: number, task: TaskRef, alignment = 0): AcknowledgeCheckpoint {
  return {
    task,
    checkpoint_id: id,
    handles: [{ operator_uid: '*', path: `/x/${task.vertex_id}-${task.subtask}.state`, size: 10, checksum: 'c', key_group_start: 0, key_group_end: 127 }],
    state_size: 10,
    sync_duration_ms: 1,
    async_duration_ms: 2,
    alignment_duration_ms: alignment,
    acknowledged_at: Date.now(),
  };
}

let root: string;

function setup(settings: Partial<CheckpointSettings> = {}, retained = 1) {
  const participants = new FakeParticipants(root);
  const store = new CompletedCheckpointStore(root, JOB, retained);
  const stats = new CheckpointStatsTracker();
  const coordinator = new CheckpointCoordinator(
    { intervalMs: 1000, timeoutMs: 10_000, minPauseMs: 0, maxConcurrent: 1, tolerableFailures: 0, ...settings },
    participants,
    store,
    stats,
    log,
    new CheckpointIdCounter(undefined),
    () => Date.now(),
  );
  /** Every task of the current attempt acknowledges checkpoint `id`. */
  const ackAll = async (id: number) => {
    for (const t of participants.tasks().all) await coordinator.receiveAck(ack(id, t));
  };
  return { participants, store, stats, coordinator, ackAll };
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'weir-coordinator-'));
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

describe('CheckpointCoordinator triggering', () => {
  it('triggers the sources at every interval with increasing ids and the trigger time', async () => {
    const { participants, coordinator, stats, ackAll } = setup();
    coordinator.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(participants.triggers).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(participants.triggers).toEqual([{ task: 'src#0', id: 1, timestamp: T0 + 1000, final: false }]);
    expect(stats.get(1)).toMatchObject({ status: 'IN_PROGRESS', total: 3, acknowledged: 0, trigger_timestamp: T0 + 1000 });
    await ackAll(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(participants.triggers.map((t) => [t.id, t.timestamp])).toEqual([[1, T0 + 1000], [2, T0 + 2000]]);
    coordinator.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(participants.triggers).toHaveLength(2);
  });

  it('does not trigger, and counts no failure, while not every task is running', async () => {
    const { participants, coordinator, stats } = setup({ tolerableFailures: 0 });
    participants.running = false;
    coordinator.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(participants.triggers).toEqual([]);
    expect(participants.failures).toEqual([]);
    expect(stats.counts).toEqual({ completed: 0, failed: 0, in_progress: 0, restored: 0 });
    expect(coordinator.lastCheckpointId).toBe(0);
    participants.running = true;
    await vi.advanceTimersByTimeAsync(1000);
    // The first checkpoint that is triggered gets id 1: skipped ticks consume no ids.
    expect(participants.triggers.map((t) => t.id)).toEqual([1]);
  });

  it('keeps min-pause between the end of one checkpoint and the next trigger', async () => {
    const { participants, coordinator, ackAll } = setup({ intervalMs: 1000, minPauseMs: 3000 });
    coordinator.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(participants.triggers.map((t) => t.id)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(500); // T0+1500
    await ackAll(1); // completes at T0+1500
    await vi.advanceTimersByTimeAsync(2999); // T0+4499: still inside the pause
    expect(participants.triggers.map((t) => t.id)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1); // T0+4500 = completion + 3000
    expect(participants.triggers.map((t) => [t.id, t.timestamp])).toEqual([[1, T0 + 1000], [2, T0 + 4500]]);
  });

  it('does not trigger a second checkpoint while max-concurrent are pending', async () => {
    const { participants, coordinator, ackAll } = setup({ maxConcurrent: 1 });
    coordinator.start();
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(3000);
    expect(participants.triggers.map((t) => t.id)).toEqual([1]);
    expect(coordinator.pendingCount()).toBe(1);
    await ackAll(1);
    expect(coordinator.pendingCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(participants.triggers.map((t) => t.id)).toEqual([1, 2]);
  });

  it('allows two pending checkpoints with max-concurrent 2', async () => {
    const { participants, coordinator } = setup({ maxConcurrent: 2 });
    coordinator.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(participants.triggers.map((t) => t.id)).toEqual([1, 2]);
    expect(coordinator.pendingCount()).toBe(2);
  });
});

describe('CheckpointCoordinator failures', () => {
  it('aborts a checkpoint at its timeout, naming the tasks that did not acknowledge', async () => {
    const { participants, coordinator, stats } = setup({ timeoutMs: 5000, tolerableFailures: 5 });
    const id = coordinator.triggerCheckpoint(false) as number;
    expect(id).toBe(1);
    await coordinator.receiveAck(ack(1, ref('src', 0)));
    await vi.advanceTimersByTimeAsync(4999);
    expect(stats.get(1)?.status).toBe('IN_PROGRESS');
    await vi.advanceTimersByTimeAsync(1);
    const s = stats.get(1);
    expect(s?.status).toBe('FAILED');
    expect(s?.failed_task).toBe('sink#0@1, sink#1@1');
    expect(s?.failure_reason).toBe('checkpoint 1 expired after 5000 ms before every task acknowledged it');
    expect(s?.end_to_end_duration_ms).toBe(5000);
    expect(participants.notifies).toEqual([
      { task: 'src#0', id: 1, completed: false },
      { task: 'sink#0', id: 1, completed: false },
      { task: 'sink#1', id: 1, completed: false },
    ]);
    expect(coordinator.pendingCount()).toBe(0);
    expect(stats.counts).toEqual({ completed: 0, failed: 1, in_progress: 0, restored: 0 });
    expect(participants.failures).toEqual([]);
    // a late acknowledgement of the aborted checkpoint changes nothing
    await coordinator.receiveAck(ack(1, ref('sink', 0)));
    await coordinator.receiveAck(ack(1, ref('sink', 1)));
    expect(stats.get(1)?.status).toBe('FAILED');
    expect(existsSync(path.join(root, JOB, 'chk-1', '_metadata'))).toBe(false);
  });

  it('fails the job at the first failed checkpoint with tolerable-failed-checkpoints 0', async () => {
    const { participants, coordinator } = setup({ timeoutMs: 5000, tolerableFailures: 0 });
    coordinator.triggerCheckpoint(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(participants.failures).toHaveLength(1);
    expect(participants.failures[0]).toBe(
      'exceeded checkpoint tolerable failure threshold (0): checkpoint 1 expired after 5000 ms before every task acknowledged it',
    );
  });

  it('with tolerable-failed-checkpoints 2 fails the job at the third consecutive failure', async () => {
    const { participants, coordinator } = setup({ tolerableFailures: 2 });
    for (const id of [1, 2]) {
      expect(coordinator.triggerCheckpoint(false)).toBe(id);
      coordinator.receiveDecline({ task: ref('sink', 1), checkpoint_id: id, reason: 'disk full' });
    }
    expect(participants.failures).toEqual([]);
    coordinator.triggerCheckpoint(false);
    coordinator.receiveDecline({ task: ref('sink', 1), checkpoint_id: 3, reason: 'disk full' });
    expect(participants.failures).toEqual(['exceeded checkpoint tolerable failure threshold (2): declined by sink#1@1: disk full']);
  });

  it('a completed checkpoint resets the count of consecutive failures', async () => {
    const { participants, coordinator, ackAll } = setup({ tolerableFailures: 2 });
    const decline = (id: number) => coordinator.receiveDecline({ task: ref('src', 0), checkpoint_id: id, reason: 'no' });
    coordinator.triggerCheckpoint(false);
    decline(1);
    coordinator.triggerCheckpoint(false);
    decline(2);
    coordinator.triggerCheckpoint(false);
    await ackAll(3);
    expect(coordinator.latestCompleted()?.id).toBe(3);
    for (const id of [4, 5]) {
      coordinator.triggerCheckpoint(false);
      decline(id);
    }
    expect(participants.failures).toEqual([]);
    coordinator.triggerCheckpoint(false);
    decline(6);
    expect(participants.failures).toHaveLength(1);
  });

  it('a decline aborts with the reason and the declining task, and tells the tasks', async () => {
    const { participants, coordinator, stats } = setup({ tolerableFailures: 3 });
    coordinator.triggerCheckpoint(false);
    coordinator.receiveDecline({ task: ref('sink', 0), checkpoint_id: 1, reason: 'writing state failed: EACCES' });
    expect(stats.get(1)).toMatchObject({ status: 'FAILED', failure_reason: 'declined by sink#0@1: writing state failed: EACCES', failed_task: 'sink#0@1' });
    expect(participants.notifies.map((n) => [n.task, n.id, n.completed])).toEqual([
      ['src#0', 1, false],
      ['sink#0', 1, false],
      ['sink#1', 1, false],
    ]);
    expect(coordinator.pendingCount()).toBe(0);
  });

  it('ignores a decline from another attempt', async () => {
    const { coordinator, stats } = setup();
    coordinator.triggerCheckpoint(false);
    coordinator.receiveDecline({ task: ref('sink', 0, 0), checkpoint_id: 1, reason: 'old attempt' });
    expect(stats.get(1)?.status).toBe('IN_PROGRESS');
    expect(coordinator.pendingCount()).toBe(1);
  });
});

describe('CheckpointCoordinator acknowledgements', () => {
  it('ignores acknowledgements from another attempt, duplicates and unknown checkpoints', async () => {
    const { participants, coordinator, stats } = setup();
    coordinator.triggerCheckpoint(false);
    await coordinator.receiveAck(ack(1, ref('src', 0, 0))); // previous attempt
    await coordinator.receiveAck(ack(1, ref('src', 0, 2))); // an attempt that is not the checkpoint's
    await coordinator.receiveAck(ack(7, ref('src', 0))); // never triggered
    await coordinator.receiveAck(ack(1, ref('other', 0))); // not a task of the checkpoint
    expect(stats.get(1)?.acknowledged).toBe(0);
    await coordinator.receiveAck(ack(1, ref('src', 0)));
    await coordinator.receiveAck(ack(1, ref('src', 0))); // duplicate
    await coordinator.receiveAck(ack(1, ref('sink', 0)));
    expect(stats.get(1)?.acknowledged).toBe(2);
    expect(stats.get(1)?.status).toBe('IN_PROGRESS');
    expect(participants.notifies).toEqual([]);
    await coordinator.receiveAck(ack(1, ref('sink', 1)));
    expect(stats.get(1)?.status).toBe('COMPLETED');
  });

  it('completion writes _metadata, records stats and notifies every task of the attempt', async () => {
    const { participants, coordinator, stats } = setup();
    coordinator.triggerCheckpoint(false);
    await vi.advanceTimersByTimeAsync(250);
    await coordinator.receiveAck(ack(1, ref('src', 0), 0));
    await coordinator.receiveAck(ack(1, ref('sink', 0), 7));
    await coordinator.receiveAck(ack(1, ref('sink', 1), 3));
    const file = path.join(root, JOB, 'chk-1', '_metadata');
    expect(existsSync(file)).toBe(true);
    const meta = JSON.parse(readFileSync(file, 'utf8'));
    // Relocatable: the metadata does not name its own directory (snapshot-format.ts).
    expect(meta).toMatchObject({ format: 'weir-snapshot', version: 1, kind: 'CHECKPOINT', jobId: JOB, id: 1, triggeredAt: T0, completedAt: T0 + 250, final: false });
    expect(meta.path).toBeUndefined();
    expect(Object.keys(meta.handles).sort()).toEqual(['sink', 'src']);
    expect(meta.handles.sink.map((h: { path: string }) => h.path).sort()).toEqual(['/x/sink-0.state', '/x/sink-1.state']);
    expect(stats.get(1)).toMatchObject({ status: 'COMPLETED', acknowledged: 3, state_size: 30, max_alignment_ms: 7, end_to_end_duration_ms: 250, path: path.join(root, JOB, 'chk-1') });
    expect(stats.counts).toEqual({ completed: 1, failed: 0, in_progress: 0, restored: 0 });
    expect(participants.notifies).toEqual([
      { task: 'src#0', id: 1, completed: true },
      { task: 'sink#0', id: 1, completed: true },
      { task: 'sink#1', id: 1, completed: true },
    ]);
    expect(coordinator.latestCompleted()?.id).toBe(1);
    // the timeout of a completed checkpoint never fires
    await vi.advanceTimersByTimeAsync(20_000);
    expect(stats.get(1)?.status).toBe('COMPLETED');
    expect(participants.failures).toEqual([]);
  });

  it('with num-retained 1, completing checkpoint 2 deletes the directory of checkpoint 1', async () => {
    const { coordinator, store, ackAll } = setup({}, 1);
    coordinator.triggerCheckpoint(false);
    await ackAll(1);
    expect(existsSync(path.join(root, JOB, 'chk-1', '_metadata'))).toBe(true);
    coordinator.triggerCheckpoint(false);
    await ackAll(2);
    expect(existsSync(path.join(root, JOB, 'chk-2', '_metadata'))).toBe(true);
    expect(existsSync(path.join(root, JOB, 'chk-1'))).toBe(false);
    expect(store.all().map((c) => c.id)).toEqual([2]);
  });

  it('a completion subsumes older pending checkpoints without counting a failure', async () => {
    const { participants, coordinator, stats, ackAll } = setup({ maxConcurrent: 2, tolerableFailures: 0 });
    coordinator.triggerCheckpoint(false);
    coordinator.triggerCheckpoint(false);
    await ackAll(2);
    expect(stats.get(1)).toMatchObject({ status: 'FAILED', failure_reason: 'subsumed by checkpoint 2' });
    expect(stats.get(2)?.status).toBe('COMPLETED');
    expect(participants.failures).toEqual([]);
    expect(coordinator.pendingCount()).toBe(0);
  });

  it('requestFinalCheckpoint triggers a checkpoint with final=true', async () => {
    const { participants, coordinator, stats, ackAll } = setup();
    coordinator.requestFinalCheckpoint();
    expect(participants.triggers).toEqual([{ task: 'src#0', id: 1, timestamp: T0, final: true }]);
    expect(stats.get(1)?.final).toBe(true);
    // asking again while it is pending does not trigger another one
    coordinator.requestFinalCheckpoint();
    expect(participants.triggers).toHaveLength(1);
    await ackAll(1);
    const meta = JSON.parse(readFileSync(path.join(root, JOB, 'chk-1', '_metadata'), 'utf8'));
    expect(meta.final).toBe(true);
  });

  it('requestFinalCheckpoint retries while the tasks are not all running', async () => {
    const { participants, coordinator } = setup();
    participants.running = false;
    coordinator.requestFinalCheckpoint();
    expect(participants.triggers).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(participants.triggers).toEqual([]);
    participants.running = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(participants.triggers.map((t) => [t.id, t.final])).toEqual([[1, true]]);
  });

  it('a final checkpoint aborted by a failover is not triggered again for the new attempt, whose sources have not ended', async () => {
    const { participants, coordinator } = setup();
    participants.running = false;
    coordinator.requestFinalCheckpoint(); // the old attempt's sources ended; not all tasks running yet
    coordinator.abortAll('job failover');
    participants.attempt = 2;
    participants.running = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(participants.triggers.filter((t) => t.final)).toEqual([]);
    // Once the new attempt's sources end, they ask again.
    coordinator.requestFinalCheckpoint();
    expect(participants.triggers.map((t) => [t.id, t.final])).toEqual([[1, true]]);
  });

  it('a pending final checkpoint aborted by a failover is not retried either', async () => {
    const { participants, coordinator } = setup();
    coordinator.requestFinalCheckpoint();
    expect(participants.triggers.map((t) => [t.id, t.final])).toEqual([[1, true]]);
    coordinator.abortAll('job failover');
    participants.attempt = 2;
    await vi.advanceTimersByTimeAsync(1000);
    expect(participants.triggers.filter((t) => t.final).map((t) => t.id)).toEqual([1]);
  });

  it('abortAll aborts pending checkpoints without counting failures', async () => {
    const { participants, coordinator, stats } = setup({ maxConcurrent: 2, tolerableFailures: 0 });
    coordinator.triggerCheckpoint(false);
    coordinator.triggerCheckpoint(false);
    coordinator.abortAll('task failed');
    expect(stats.counts.failed).toBe(2);
    expect(stats.get(2)?.failure_reason).toBe('task failed');
    expect(participants.failures).toEqual([]);
    expect(coordinator.pendingCount()).toBe(0);
  });
});

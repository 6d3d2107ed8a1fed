import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AcknowledgeCheckpoint, TaskRef, Termination } from '@weir/core';
import { readSnapshot, sha256 } from '@weir/runtime';
import { CheckpointIdCounter } from './checkpoint-id-counter';
import { CheckpointStatsTracker } from './checkpoint-stats';
import { CompletedCheckpointStore } from './completed-store';
import { CheckpointCoordinator, type CheckpointParticipants } from './coordinator';
import type { SavepointOptions } from './pending-checkpoint';
import { disposeSavepoint } from './savepoint-store';
import { SnapshotTriggers } from './snapshot-triggers';

const JOB = 'abcdef0123456789abcdef0123456789';
const log = pino({ level: 'silent' });
const ref = (vertex: string, subtask: number): TaskRef => ({ job_id: JOB, vertex_id: vertex, subtask, attempt: 0 });
const TASKS = [ref('src', 0), ref('sink', 0)];

/** Stands in for the job master; records triggers and notifications. */
class Participants implements CheckpointParticipants {
  running = true;
  readonly triggers: { id: number; savepoint?: SavepointOptions }[] = [];
  readonly notifies: { task: string; id: number; completed: boolean; savepoint?: boolean; termination?: Termination }[] = [];
  readonly failures: string[] = [];
  readonly outcomes: { id: number; path?: string; failure?: string }[] = [];
  runningTasks() {
    return this.running ? { attempt: 0, sources: [TASKS[0]], all: TASKS } : undefined;
  }
  currentTasks() {
    return TASKS;
  }
  trigger(_task: TaskRef, id: number, _ts: number, _final: boolean, savepoint?: SavepointOptions) {
    this.triggers.push({ id, savepoint });
  }
  notify(task: TaskRef, id: number, completed: boolean, options: { savepoint?: boolean; termination?: Termination } = {}) {
    this.notifies.push({ task: task.vertex_id, id, completed, ...options });
  }
  settled(outcome: { id: number; path?: string; failure?: string }) {
    this.outcomes.push(outcome);
  }
  failJob(reason: string) {
    this.failures.push(reason);
  }
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'weir-savepoint-'));
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

function setup(intervalMs = 1000) {
  const participants = new Participants();
  const store = new CompletedCheckpointStore(path.join(root, 'checkpoints'), JOB, 1);
  store.vertices = [{ id: 'src', name: 'Source', parallelism: 1, max_parallelism: 128, operators: [{ uid: 'numbers', name: 'Source', kind: 'source' }] }];
  const stats = new CheckpointStatsTracker();
  const coordinator = new CheckpointCoordinator({ intervalMs, timeoutMs: 10_000, minPauseMs: 0, maxConcurrent: 1, tolerableFailures: 0 }, participants, store, stats, log, new CheckpointIdCounter(undefined));
  return { participants, store, stats, coordinator };
}

/** A task acknowledges after writing its state file into chk-<id>, as real tasks do. */
function ack(id: number, task: TaskRef): AcknowledgeCheckpoint {
  const dir = path.join(root, 'checkpoints', JOB, `chk-${id}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${task.vertex_id}-${task.subtask}.state`);
  const data = Buffer.from(`state of ${task.vertex_id}`);
  writeFileSync(file, data);
  return {
    task, checkpoint_id: id, state_size: data.length, sync_duration_ms: 0, async_duration_ms: 0, alignment_duration_ms: 0, acknowledged_at: 0,
    handles: [{ operator_uid: '*', path: file, size: data.length, checksum: sha256(data), key_group_start: 0, key_group_end: -1 }],
  };
}

describe('savepoints in the checkpoint coordinator', () => {
  it('a savepoint moves its files into a directory of its own, is never restored from on failover, and commits nothing', async () => {
    const { participants, store, stats, coordinator } = setup();
    const target = path.join(root, 'savepoints');
    const id = coordinator.triggerCheckpoint(false, { targetDir: target, termination: '' }) as number;
    expect(participants.triggers).toEqual([{ id, savepoint: { targetDir: target, termination: '' } }]);
    for (const t of TASKS) await coordinator.receiveAck(ack(id, t));
    const [dir] = readdirSync(target);
    expect(dir).toMatch(/^savepoint-abcdef-[0-9a-f]{12}$/);
    const sp = path.join(target, dir);
    expect(readdirSync(sp).sort()).toEqual(['_metadata', 'sink-0.state', 'src-0.state']);
    expect(existsSync(path.join(root, 'checkpoints', JOB, `chk-${id}`))).toBe(false);
    const raw = JSON.parse(readFileSync(path.join(sp, '_metadata'), 'utf8'));
    expect(raw).toMatchObject({ format: 'weir-snapshot', version: 1, kind: 'SAVEPOINT', id, jobId: JOB });
    expect(raw.handles.src[0].path).toBe('src-0.state');
    expect(raw.vertices[0].operators[0].uid).toBe('numbers');
    expect(participants.outcomes).toEqual([{ id, path: sp }]);
    expect(stats.get(id)).toMatchObject({ status: 'COMPLETED', is_savepoint: true, path: sp });
    expect(store.latest()).toBeUndefined();
    // Tasks learn it completed, flagged so that sinks do not commit on it.
    expect(participants.notifies).toEqual([
      { task: 'src', id, completed: true, savepoint: true, termination: '' },
      { task: 'sink', id, completed: true, savepoint: true, termination: '' },
    ]);
  });

  it('relocatable: moved elsewhere, it reads with its files at the new place; a checkpoint cannot be disposed, a savepoint can', async () => {
    const { coordinator } = setup();
    const id = coordinator.triggerCheckpoint(false, { targetDir: path.join(root, 'a'), termination: '' }) as number;
    for (const t of TASKS) await coordinator.receiveAck(ack(id, t));
    const moved = path.join(root, 'b');
    const { renameSync } = await import('node:fs');
    renameSync(path.join(root, 'a', readdirSync(path.join(root, 'a'))[0]), moved);
    const meta = await readSnapshot(path.join(moved, '_metadata'));
    expect(meta.path).toBe(moved);
    expect(meta.handles.src[0].path).toBe(path.join(moved, 'src-0.state'));
    const cp = coordinator.triggerCheckpoint(false) as number;
    for (const t of TASKS) await coordinator.receiveAck(ack(cp, t));
    const chk = path.join(root, 'checkpoints', JOB, `chk-${cp}`);
    await expect(disposeSavepoint(chk)).rejects.toThrow(`${chk} is a checkpoint of job ${JOB}, not a savepoint`);
    expect(await disposeSavepoint(moved)).toBe(moved);
    expect(existsSync(moved)).toBe(false);
  });

  it('a declined savepoint fails alone: not counted against tolerable checkpoint failures, its files removed', async () => {
    const { participants, coordinator } = setup();
    const id = coordinator.triggerCheckpoint(false, { targetDir: path.join(root, 'sp'), termination: '' }) as number;
    await coordinator.receiveAck(ack(id, TASKS[0]));
    coordinator.receiveDecline({ task: TASKS[1], checkpoint_id: id, reason: 'disk full' });
    expect(participants.outcomes).toEqual([{ id, failure: 'declined by sink#0@0: disk full' }]);
    expect(participants.failures).toEqual([]);
    const chk = path.join(root, 'checkpoints', JOB, `chk-${id}`);
    for (let i = 0; i < 20_000 && existsSync(chk); i++) await new Promise((r) => setImmediate(r)); // the removal runs on real I/O
    expect(existsSync(chk)).toBe(false);
    expect(existsSync(path.join(root, 'sp'))).toBe(false);
  });

  it('a target the savepoint cannot be written to: it fails with the reason, tasks are told, nothing is left behind', async () => {
    const { participants, coordinator, store } = setup();
    const target = path.join(root, 'a-file');
    writeFileSync(target, 'not a directory');
    const id = coordinator.triggerCheckpoint(false, { targetDir: target, termination: '' }) as number;
    for (const t of TASKS) await coordinator.receiveAck(ack(id, t));
    expect(participants.outcomes).toHaveLength(1);
    expect(participants.outcomes[0].failure).toMatch(new RegExp(`^writing metadata failed: writing savepoint under ${target} failed: (ENOTDIR|EEXIST)$`));
    expect(participants.notifies.map((n) => n.completed)).toEqual([false, false]);
    expect(participants.failures).toEqual([]);
    expect(store.latest()).toBeUndefined();
    const chk = path.join(root, 'checkpoints', JOB, `chk-${id}`);
    for (let i = 0; i < 20_000 && existsSync(chk); i++) await new Promise((r) => setImmediate(r));
    expect(existsSync(chk)).toBe(false);
  });

  it('stop with savepoint: the trigger tells the sources to stop, completion ends the job and no checkpoint follows', async () => {
    const { participants, coordinator } = setup(1000);
    coordinator.start();
    const id = coordinator.triggerCheckpoint(false, { targetDir: path.join(root, 'sp'), termination: 'STOP' }) as number;
    for (const t of TASKS) await coordinator.receiveAck(ack(id, t));
    expect(participants.notifies.map((n) => n.termination)).toEqual(['STOP', 'STOP']);
    expect(participants.notifies.every((n) => !n.savepoint)).toBe(true); // a stop commits: the job ends here
    await vi.advanceTimersByTimeAsync(5000);
    expect(participants.triggers.map((t) => t.id)).toEqual([id]);
  });
});

describe('snapshot triggers (weir savepoint / stop / checkpoint)', () => {
  it('waits while a checkpoint is in flight, then triggers; the status ends with the path', async () => {
    const { participants, coordinator } = setup();
    const triggers = new SnapshotTriggers(coordinator, () => participants.running, 5000, () => {}, log);
    participants.settled = (o) => triggers.onSettled(o);
    const cp = coordinator.triggerCheckpoint(false) as number;
    const triggerId = triggers.request('SAVEPOINT', { targetDir: path.join(root, 'sp') });
    expect(triggers.get(triggerId)).toMatchObject({ status: 'IN_PROGRESS', checkpoint_id: 0 });
    for (const t of TASKS) await coordinator.receiveAck(ack(cp, t));
    await vi.advanceTimersByTimeAsync(60);
    const sp = triggers.get(triggerId)?.checkpoint_id as number;
    expect(sp).toBe(cp + 1);
    for (const t of TASKS) await coordinator.receiveAck(ack(sp, t));
    expect(triggers.get(triggerId)).toMatchObject({ status: 'COMPLETED', kind: 'SAVEPOINT', path: expect.stringMatching(/savepoint-abcdef-/) });
  });

  it('fails with a reason when the job stops running before the snapshot could start, or tasks never all run', async () => {
    const { participants, coordinator } = setup();
    const triggers = new SnapshotTriggers(coordinator, () => participants.running, 300, () => {}, log);
    participants.running = false;
    const gone = triggers.request('CHECKPOINT');
    expect(triggers.get(gone)).toMatchObject({ status: 'FAILED', failure_reason: 'the job stopped running before the snapshot could be triggered' });
    const stuck = new SnapshotTriggers(coordinator, () => true, 300, () => {}, log);
    const id = stuck.request('SAVEPOINT', { targetDir: root });
    await vi.advanceTimersByTimeAsync(400);
    expect(stuck.get(id)).toMatchObject({ status: 'FAILED', failure_reason: 'could not be triggered within 300 ms: tasks were not all running or a checkpoint stayed in progress' });
  });
});

import { createHash, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, open, rm, rmdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError, ContractViolation, isWithinDirectory, RecordSerializer, WeirError, type StateHandle } from '@weir/core';
import type { KeyedSnapshot } from '../state/keyed-backend';
import type { LocalStateCopies } from './local-recovery';
import type { ChannelStateSnapshot } from './channel-state';

/** What one task writes for one checkpoint: one file holding every operator of its chain. */
export interface TaskStateSnapshot {
  vertexId: string;
  subtask: number;
  keyGroupStart: number;
  keyGroupEnd: number;
  /** By operator uid: keyed state (head operator only), union and split operator list state. */
  operators: Record<string, { keyed?: KeyedSnapshot; operator?: Record<string, unknown[]>; split?: Record<string, unknown[]> }>;
  /** Parallelism of the vertex when it was written: channel state is redistributed when it changed. */
  parallelism?: number;
  /** In-flight data of an unaligned checkpoint. */
  channels?: ChannelStateSnapshot;
}

export function checkpointDirectory(root: string, jobId: string, checkpointId: number): string {
  return path.join(root, jobId, `chk-${checkpointId}`);
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The same digest computed on libuv's thread pool (WebCrypto), so a large state file is not hashed on the task's thread. */
export async function sha256OffThread(data: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', data)).toString('hex');
}

/** Encodes a task's state, then writes the file (off the record path) and returns its handle. */
export async function writeTaskState(
  root: string, jobId: string, checkpointId: number, snapshot: TaskStateSnapshot, serializer = new RecordSerializer(),
): Promise<StateHandle> {
  const dir = checkpointDirectory(root, jobId, checkpointId);
  return (await writeStateFile(path.join(dir, `${snapshot.vertexId}-${snapshot.subtask}.state`), snapshot, serializer)).handle;
}

/**
 * Encodes a snapshot into `file` durably; the bytes come back for a local copy. The
 * keyed state in it is a capture (copy-on-write or a store transaction) that later
 * records do not change, so the encoding may run after the barrier has gone on.
 */
export async function writeStateFile(file: string, snapshot: TaskStateSnapshot, serializer = new RecordSerializer()): Promise<{ handle: StateHandle; data: Buffer }> {
  let data: Buffer;
  try {
    data = serializer.encodeState(snapshot);
  } catch (err) {
    if (err instanceof ContractViolation) throw err.toJobError(`the state of ${snapshot.vertexId}#${snapshot.subtask} cannot be serialized`, 'state');
    throw err;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const [checksum] = await Promise.all([sha256OffThread(data), writeFileDurably(file, data)]);
  const handle: StateHandle = {
    operator_uid: '*',
    path: file,
    size: data.length,
    checksum,
    key_group_start: snapshot.keyGroupStart,
    key_group_end: snapshot.keyGroupEnd,
  };
  return { handle, data };
}

/**
 * The bytes of a state file, checked against its handle: place, size and checksum. Throws a
 * CheckpointError naming what is wrong. With local recovery, a verified local copy is read first.
 */
async function readVerifiedStateBytes(handle: StateHandle, jobDir: string, local?: LocalStateCopies): Promise<Buffer> {
  if (!isWithinDirectory(jobDir, handle.path)) throw new CheckpointError(`checkpoint state file ${handle.path} is outside the job's checkpoint directory ${jobDir}: not read`);
  const nearby = await local?.read(handle);
  if (nearby) return nearby;
  let data: Buffer;
  try {
    data = await readFile(handle.path);
  } catch (err) {
    throw new CheckpointError(`checkpoint state file ${handle.path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (data.length !== handle.size) {
    throw new CheckpointError(`checkpoint state file ${handle.path} is corrupt: it has ${data.length} bytes where the checkpoint metadata says ${handle.size}`);
  }
  if (sha256(data) !== handle.checksum) {
    throw new CheckpointError(`checkpoint state file ${handle.path} is corrupt: its checksum does not match the checkpoint metadata`);
  }
  return data;
}

/**
 * Reads a state file and checks it against its handle: a damaged file, or one outside the
 * job's directory, is never restored. With local recovery, a verified local copy is read first.
 */
export async function readTaskState(handle: StateHandle, jobDir: string, serializer = new RecordSerializer(), local?: LocalStateCopies): Promise<TaskStateSnapshot> {
  const data = await readVerifiedStateBytes(handle, jobDir, local);
  try {
    return decodeTaskState(data, serializer);
  } catch (err) {
    // A registered class the job no longer registers: the job error says which.
    if (err instanceof WeirError) throw err;
    throw new CheckpointError(`checkpoint state file ${handle.path} cannot be decoded`, { cause: err });
  }
}

/**
 * One state file written message by message (a head, then keyed-state fragments), so that
 * no single encoding holds the task's thread for long: each message is encoded, added to
 * a streaming SHA-256 and written through the asynchronous file API (libuv's thread pool)
 * before the next. Temp file, fsync, rename as writeFileDurably; abort() leaves nothing.
 */
export class StateFileWriter {
  private readonly hash = createHash('sha256');
  private size = 0;

  private constructor(readonly file: string, private readonly tmp: string, private readonly fh: FileHandle, private readonly serializer: RecordSerializer, private readonly owner: string) {}

  static async create(file: string, serializer: RecordSerializer, owner: string): Promise<StateFileWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
    return new StateFileWriter(file, tmp, await open(tmp, 'w'), serializer, owner);
  }

  /** Appends one message; returns its size in bytes. */
  async append(value: unknown): Promise<number> {
    let data: Buffer;
    try {
      data = this.serializer.encodeState(value);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(`the state of ${this.owner} cannot be serialized`, 'state');
      throw err;
    }
    this.hash.update(data);
    await this.fh.write(data);
    this.size += data.length;
    return data.length;
  }

  async close(): Promise<{ size: number; checksum: string }> {
    try {
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
    await rename(this.tmp, this.file);
    return { size: this.size, checksum: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await rm(this.tmp, { force: true }).catch(() => {});
  }
}

/** A fragment of a state file: more keyed state of the operator `uid`, appended to its head. */
interface KeyedFragment {
  uid: string;
  states: KeyedSnapshot['states'];
}

/**
 * A state file's snapshot: its head, with the keyed-state fragments after it merged in. A
 * key group split across fragments becomes one again (a full snapshot replaces whole groups).
 */
export function decodeTaskState(data: Uint8Array, serializer = new RecordSerializer()): TaskStateSnapshot {
  const [head, ...fragments] = serializer.decodeStateMessages(data) as [TaskStateSnapshot, ...KeyedFragment[]];
  for (const { uid, states } of fragments) {
    const keyed = head.operators[uid]?.keyed;
    if (!keyed) throw new Error(`a fragment of keyed state for operator ${uid}, which the file's head does not name`);
    for (const [name, s] of Object.entries(states)) {
      const into = (keyed.states[name] ??= keyed.delta ? { kind: s.kind, groups: [], removed: [] } : { kind: s.kind, groups: [] });
      for (const group of s.groups) {
        const last = into.groups[into.groups.length - 1];
        if (last && last[0] === group[0]) for (const e of group[1]) last[1].push(e);
        else into.groups.push(group);
      }
      if (s.removed?.length) (into.removed ??= []).push(...s.removed);
    }
  }
  return head;
}

/**
 * temp file, fsync, rename: a reader sees the old file or the whole new one. A failed write
 * (a full disk) removes its temp file: nothing is left behind. `beforeRename` lets the
 * caller pass a fault point between the synced temp file and the rename.
 */
export async function writeFileDurably(file: string, data: Uint8Array | string, beforeRename?: () => Promise<void> | undefined): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await beforeRename?.();
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Why a state file no longer matches its handle, or undefined when it is whole. Checks
 * place, size and checksum only: decoding needs the job's registered types, which the
 * JobManager does not load.
 */
export async function checkStateFile(handle: StateHandle, jobDir: string): Promise<string | undefined> {
  try {
    await readVerifiedStateBytes(handle, jobDir);
    return undefined;
  } catch (err) {
    if (err instanceof CheckpointError) return err.message;
    throw err;
  }
}

export async function removeCheckpointDirectory(root: string, jobId: string, checkpointId: number): Promise<void> {
  await rm(checkpointDirectory(root, jobId, checkpointId), { recursive: true, force: true });
}

/** Removes a state file nobody will use, and its checkpoint directory when that is empty; nothing outside `jobDir`. */
export async function discardStateFile(handle: StateHandle, jobDir: string): Promise<boolean> {
  if (!isWithinDirectory(jobDir, handle.path)) return false;
  await rm(handle.path, { force: true }).catch(() => {});
  if (isWithinDirectory(jobDir, path.dirname(handle.path))) await rmdir(path.dirname(handle.path)).catch(() => {});
  return true;
}

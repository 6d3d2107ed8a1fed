import { createHash, webcrypto } from 'node:crypto';
import { CheckpointError, ContractViolation, RecordSerializer, WeirError, type StateHandle } from '@weir/core';
import { isWithinJobDirectory } from './storage/confinement';
import type { KeyedSnapshot } from '../state/keyed-backend';
import type { LocalStateCopies } from './local-recovery';
import type { ChannelStateSnapshot } from './channel-state';
import { baseName, joinLocation, parentLocation, storageFor, storageSettings, type StorageCounters } from './storage/index';

export * from './storage/index';

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
  return joinLocation(root, jobId, `chk-${checkpointId}`);
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The same digest computed on libuv's thread pool (WebCrypto), so a large state file is not hashed on the task's thread. */
export async function sha256OffThread(data: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', data)).toString('hex');
}

/** A state handle and what writing it cost. */
export interface WrittenState {
  handle: StateHandle;
  cost: StorageCounters;
}

/** One task's state file to write, as handed to a file merger. */
export interface StateFileRequest {
  /** The checkpoint's directory, where the file (or the merged file holding it) goes. */
  directory: string;
  /** The file name the task would give it alone: `<vertex>-<subtask>.state`. */
  name: string;
  checkpointId: number;
  data: Uint8Array;
}

/** Where a merger put a task's state: alone, or as `data.length` bytes from `offset` of a shared file. */
export interface StateFilePlacement {
  location: string;
  shared: boolean;
  offset: number;
  /** This task's share of the write requests (the whole merged file's go to one of its tasks). */
  puts: number;
}

/** Writes state files of several tasks as one (see taskmanager's state-file-merger.ts). */
export type StateFileMerger = (request: StateFileRequest) => Promise<StateFilePlacement>;

/**
 * Writes a task's state file (off the record path) and returns its handle. State up to
 * `state.storage.fs.memory-threshold` bytes is not written at all: it travels in the
 * handle and lands in `_metadata`, saving one request per task and checkpoint. With a
 * `merger`, the file may share one object with the TaskManager's other tasks' files.
 */
export async function writeTaskState(
  root: string, jobId: string, checkpointId: number, snapshot: TaskStateSnapshot, serializer = new RecordSerializer(), merger?: StateFileMerger,
): Promise<WrittenState> {
  // Encoded before the first await, so in the snapshot's synchronous part: a state value
  // that a later record changes in place must not reach this checkpoint.
  let data: Buffer;
  try {
    data = serializer.encodeState(snapshot);
  } catch (err) {
    if (err instanceof ContractViolation) throw err.toJobError(`the state of ${snapshot.vertexId}#${snapshot.subtask} cannot be serialized`, 'state');
    throw err;
  }
  const base = {
    operator_uid: '*', size: data.length, key_group_start: snapshot.keyGroupStart, key_group_end: snapshot.keyGroupEnd,
  };
  const location = joinLocation(checkpointDirectory(root, jobId, checkpointId), `${snapshot.vertexId}-${snapshot.subtask}.state`);
  // The digest is computed on the thread pool while the file is written.
  const [checksum, stored] = await Promise.all([sha256OffThread(data), storeStateBytes(location, checkpointId, data, { inline: true, merger })]);
  return { handle: { ...base, checksum, ...stored.place }, cost: stored.cost };
}

/** Where a handle's state is, for messages. */
export function describeHandle(handle: StateHandle): string {
  if (!handle.path) return `inline state of key groups ${handle.key_group_start}-${handle.key_group_end}`;
  return handle.shared ? `${handle.path} (bytes ${handle.offset ?? 0}-${(handle.offset ?? 0) + handle.size - 1})` : handle.path;
}

/** The bytes of a state handle (inline or stored), checked against it: place, size and checksum. Throws a CheckpointError naming what is wrong. */
async function readVerifiedStateBytes(handle: StateHandle, jobDir: string, local?: LocalStateCopies): Promise<Buffer> {
  const nearby = handle.path && isWithinJobDirectory(jobDir, handle.path) ? await local?.read(handle) : undefined;
  if (nearby) return nearby;
  let data: Buffer;
  if (handle.inline_data && handle.inline_data.length > 0) {
    data = Buffer.from(handle.inline_data);
  } else {
    if (!isWithinJobDirectory(jobDir, handle.path)) throw new CheckpointError(`checkpoint state file ${handle.path} is outside the job's checkpoint directory ${jobDir}: not read`);
    try {
      const storage = storageFor(handle.path);
      data = handle.shared ? await storage.readRange(handle.path, handle.offset ?? 0, handle.size) : await storage.read(handle.path);
    } catch (err) {
      const reason = err instanceof CheckpointError ? err.message : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      throw new CheckpointError(`checkpoint state file ${handle.path} cannot be read: ${reason}`, { cause: err });
    }
  }
  if (data.length !== handle.size) {
    throw new CheckpointError(`checkpoint state file ${describeHandle(handle)} is corrupt: it has ${data.length} bytes where the checkpoint metadata says ${handle.size}`);
  }
  if (sha256(data) !== handle.checksum) {
    throw new CheckpointError(`checkpoint state file ${describeHandle(handle)} is corrupt: its checksum does not match the checkpoint metadata`);
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
    throw new CheckpointError(`checkpoint state file ${describeHandle(handle)} cannot be decoded`, { cause: err });
  }
}

/**
 * One state file encoded message by message (a head, then keyed-state fragments), so that
 * no single encoding holds the task's thread for long: each message is encoded and added
 * to a streaming SHA-256 before the next, and the caller yields to the event loop between
 * them. The finished bytes go through the storage seam in one write (storeStateBytes), so
 * the same file lands on a filesystem or an object store.
 */
export class StateFileEncoder {
  private readonly hash = createHash('sha256');
  private readonly parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly serializer: RecordSerializer, private readonly owner: string) {}

  /** Appends one message; returns its size in bytes. */
  append(value: unknown): number {
    let data: Buffer;
    try {
      data = this.serializer.encodeState(value);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(`the state of ${this.owner} cannot be serialized`, 'state');
      throw err;
    }
    this.hash.update(data);
    this.parts.push(data);
    this.size += data.length;
    return data.length;
  }

  finish(): { data: Buffer; size: number; checksum: string } {
    return { data: Buffer.concat(this.parts, this.size), size: this.size, checksum: this.hash.digest('hex') };
  }
}

/** Where stored state bytes went, as the handle's fields say it, and what storing them cost. */
export interface StoredStateBytes {
  place: Pick<StateHandle, 'path' | 'shared' | 'offset' | 'inline_data'>;
  cost: StorageCounters;
}

/**
 * Stores the encoded bytes of one state file at `location`: inline in the handle when
 * `inline` allows it and they fit `state.storage.fs.memory-threshold`, else through a
 * file `merger` when given, else as a file (or object) of their own.
 */
export async function storeStateBytes(
  location: string, checkpointId: number, data: Buffer, options: { inline?: boolean; merger?: StateFileMerger } = {},
): Promise<StoredStateBytes> {
  if (options.inline && data.length <= storageSettings().memoryThreshold) {
    return { place: { path: '', inline_data: data }, cost: { puts: 0, bytes: 0 } };
  }
  if (options.merger) {
    const placed = await options.merger({ directory: parentLocation(location), name: baseName(location), checkpointId, data });
    return { place: { path: placed.location, ...(placed.shared ? { shared: true, offset: placed.offset } : {}) }, cost: { puts: placed.puts, bytes: data.length } };
  }
  const written = await storageFor(location).write(location, data);
  return { place: { path: written.location }, cost: { puts: written.puts, bytes: data.length } };
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
  await storageFor(root).deleteDirectory(checkpointDirectory(root, jobId, checkpointId));
}

/** Removes a state file nobody will use, and its checkpoint directory when that is empty; nothing outside `jobDir`. */
export async function discardStateFile(handle: StateHandle, jobDir: string): Promise<boolean> {
  // A shared (merged) file holds other tasks' state too: it goes with its checkpoint directory.
  if (!handle.path || handle.shared || !isWithinJobDirectory(jobDir, handle.path)) return false;
  const storage = storageFor(handle.path);
  await storage.delete(handle.path).catch(() => {});
  if (isWithinJobDirectory(jobDir, parentLocation(handle.path))) await storage.deleteIfEmpty(parentLocation(handle.path)).catch(() => {});
  return true;
}

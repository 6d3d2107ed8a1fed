/**
 * The one on-disk format of checkpoints and savepoints: `_metadata` (JSON) beside the
 * tasks' state files. It names every file relative to itself, so a savepoint directory can
 * be moved and resumed from its new place; it carries the job's vertices with their
 * operator uids, so that state is matched to a changed job by uid; and it is versioned.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError, type OperatorSpec, type SnapshotKind, type StateHandle, type StateInfo } from '@weir/core';
import type { TaskStateSnapshot } from './storage';

export const METADATA_FILE = '_metadata';
export const SNAPSHOT_FORMAT = 'weir-snapshot';
/** Version 1: relative paths, kind, vertices with uids, state descriptions in the handles. */
export const SNAPSHOT_VERSION = 1;

/** A vertex of the job that wrote the snapshot: what state can be matched to. */
export interface SnapshotVertex {
  id: string;
  name: string;
  parallelism: number;
  max_parallelism: number;
  operators: OperatorSpec[];
}

/** A completed checkpoint or savepoint, with absolute paths once read. */
export interface SnapshotMetadata {
  jobId: string;
  id: number;
  kind?: SnapshotKind;
  triggeredAt: number;
  completedAt: number;
  final: boolean;
  /** vertexId -> state handles of all its subtasks */
  handles: Record<string, StateHandle[]>;
  /** Absent in metadata written before savepoints existed. */
  vertices?: SnapshotVertex[];
  /** The directory that holds `_metadata`: where it was read from, not where it was written. */
  path: string;
}

/** `_metadata` text: handle paths relative to the snapshot's directory. */
export function encodeMetadata(meta: SnapshotMetadata): string {
  const handles: Record<string, StateHandle[]> = {};
  for (const [vertex, list] of Object.entries(meta.handles)) {
    handles[vertex] = list.map((h) => ({ ...h, path: relativeTo(meta.path, h.path) }));
  }
  const { path: _where, ...rest } = meta;
  return JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, kind: 'CHECKPOINT', ...rest, handles }, null, 1);
}

function relativeTo(dir: string, file: string): string {
  const rel = path.relative(dir, file);
  // Files outside the directory (never written so) keep their absolute path.
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}

/** Parses `_metadata` read from `dir`; relative paths resolve against where it is now. */
export function decodeMetadata(text: string, dir: string, file = path.join(dir, METADATA_FILE)): SnapshotMetadata {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CheckpointError(`checkpoint metadata ${file} is corrupt: it is not valid JSON (${text.length} bytes)`);
  }
  if (!raw || typeof raw !== 'object' || typeof raw.id !== 'number' || typeof raw.handles !== 'object' || raw.handles === null) {
    throw new CheckpointError(`checkpoint metadata ${file} is corrupt: it lacks the checkpoint id or the state handles`);
  }
  if (raw.format !== undefined && raw.format !== SNAPSHOT_FORMAT) {
    throw new CheckpointError(`${file} is not Weir snapshot metadata (format "${String(raw.format)}")`);
  }
  const version = typeof raw.version === 'number' ? raw.version : 0;
  if (version > SNAPSHOT_VERSION) {
    throw new CheckpointError(`${file} was written in snapshot format version ${version}; this Weir reads versions up to ${SNAPSHOT_VERSION}`);
  }
  const handles: Record<string, StateHandle[]> = {};
  for (const [vertex, list] of Object.entries(raw.handles as Record<string, StateHandle[]>)) {
    handles[vertex] = list.map((h) => ({ ...h, path: path.isAbsolute(h.path) ? h.path : path.join(dir, h.path) }));
  }
  const { format: _f, version: _v, ...rest } = raw;
  return { ...(rest as unknown as SnapshotMetadata), kind: (raw.kind as SnapshotKind | undefined) ?? 'CHECKPOINT', handles, path: dir };
}

/**
 * Reads the savepoint or retained checkpoint a user names: its directory or its
 * `_metadata` file. Every way this can go wrong is one sentence naming the path.
 */
export async function readSnapshot(location: string): Promise<SnapshotMetadata> {
  const given = path.resolve(location);
  let info;
  try {
    info = await stat(given);
  } catch {
    throw new CheckpointError(`no savepoint or checkpoint at ${given}: the path does not exist`);
  }
  const dir = info.isDirectory() ? given : path.dirname(given);
  const file = path.join(dir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(code === 'ENOENT'
      ? `${dir} is not a savepoint or checkpoint: it has no ${METADATA_FILE} (an incomplete checkpoint, or the wrong directory)`
      : `cannot read ${file}: ${code ?? (err as Error).message}`);
  }
  return decodeMetadata(text, dir, file);
}

/** What a task's state file holds, for the compatibility report of a later restore. */
export function describeStates(snapshot: TaskStateSnapshot): StateInfo[] {
  const out: StateInfo[] = [];
  for (const [uid, op] of Object.entries(snapshot.operators)) {
    for (const [name, state] of Object.entries(op.keyed?.states ?? {})) {
      if (state.groups.length === 0) continue;
      out.push({ operator_uid: uid, name: name.startsWith(`${uid}/`) ? name.slice(uid.length + 1) : name, kind: state.kind, keyed: true });
    }
    for (const [name, values] of Object.entries(op.operator ?? {})) if (values.length > 0) out.push({ operator_uid: uid, name, kind: 'union', keyed: false });
    for (const [name, values] of Object.entries(op.split ?? {})) if (values.length > 0) out.push({ operator_uid: uid, name, kind: 'split', keyed: false });
  }
  return out;
}

/**
 * Writes one task's snapshot for a checkpoint: its own file (operator state, and keyed
 * state unless that goes to a changelog chain) and, for keyed state larger than one file,
 * further keyed files. Runs after the barrier has gone on, on the task's thread, while the
 * task goes on processing records: the keyed capture is fixed (copy-on-write or a store
 * transaction), and the work comes in small fragments (read, encode, hash) with the event
 * loop getting a turn whenever a few milliseconds have passed. Each finished file goes
 * through the checkpoint storage seam (a filesystem or an object store) in one write.
 */
import { performance } from 'node:perf_hooks';
import type { RecordSerializer, StateHandle, StateInfo } from '@weir/core';
import type { KeyedCapture, KeyedSnapshot } from '../state/keyed-backend';
import { yieldToEventLoop } from '../signal';
import { chainFilePosition } from './shared-state';
import { describeStates } from './snapshot-format';
import { baseName, StateFileEncoder, storeStateBytes, type StoredStateBytes, type TaskStateSnapshot } from './storage';
import { YIELD_INTERVAL_MS } from '../task/record-feeder';

/** Entries of keyed state per state file: a full snapshot of more is written in several. */
export const KEYED_FILE_ENTRIES = 250_000;
/** Entries per message: encoding one takes about a millisecond. */
const FRAGMENT_ENTRIES = 4096;
/** Work between two turns of the event loop, so that records keep flowing: as long as a slice of records (see heap-backend.ts). */
const SLICE_MS = YIELD_INTERVAL_MS;

/** A task's keyed file beside its own in a checkpoint (a full snapshot larger than one file). */
export function keyedFileName(vertexId: string, subtask: number, part: number): string {
  return `${vertexId}-${subtask}-keyed-${part}.state`;
}

/**
 * A file holding keyed state only (a keyed file or a changelog chain's): a restore reads it
 * only for the key groups it owns. A task's own file holds operator and channel state too.
 */
export function isKeyedOnlyFile(file: string): boolean {
  return /-keyed-\d+\.state$/.test(baseName(file)) || chainFilePosition(file) !== undefined;
}

export interface TaskStateTarget {
  /** The task's own file. */
  taskFile: string;
  /** Keyed file `part` (from 1 when part 0 goes into the task's own file). */
  keyedFile(part: number): string;
  /** Keyed state goes to keyed files only (a changelog chain), none into the task's own file. */
  keyedApart: boolean;
  /**
   * Stores a finished file's bytes (inline, merged or alone); by default a file of its own
   * at `file`. `taskFile` tells the task's own file from keyed ones.
   */
  store?(file: string, data: Buffer, taskFile: boolean): Promise<StoredStateBytes>;
  /** Every file once written: a failed checkpoint discards them, local recovery copies them. */
  written(handle: StateHandle, data: Buffer): void;
}

/** One file being written, and the keyed states it holds (for the handle's description). */
interface OpenFile {
  file: string;
  writer: StateFileEncoder;
  head: TaskStateSnapshot;
  states: Map<string, string>;
}

/** Returns the task file's handle and the keyed files' handles, in the order a restore applies them. */
export async function writeTaskSnapshot(
  snapshot: TaskStateSnapshot, headUid: string, capture: KeyedCapture | undefined, target: TaskStateTarget, serializer: RecordSerializer,
): Promise<{ task: StateHandle; keyed: StateHandle[] }> {
  const owner = `${snapshot.vertexId}#${snapshot.subtask}`;
  const keyedHead = () => ({ range: { start: snapshot.keyGroupStart, end: snapshot.keyGroupEnd }, ...(capture?.mode === 'delta' ? { delta: true } : {}), states: {} });
  const start = async (file: string, head: TaskStateSnapshot): Promise<OpenFile> => {
    const f = { file, writer: new StateFileEncoder(serializer, owner), head, states: new Map<string, string>() };
    f.writer.append(head);
    return f;
  };
  const finish = async (f: OpenFile): Promise<StateHandle> => {
    const { data, size, checksum } = f.writer.finish();
    const stored = target.store ? await target.store(f.file, data, f.file === target.taskFile) : await storeStateBytes(f.file, 0, data);
    const keyedStates: StateInfo[] = [...f.states].map(([name, kind]) => ({ operator_uid: headUid, name: name.startsWith(`${headUid}/`) ? name.slice(headUid.length + 1) : name, kind, keyed: true }));
    const handle: StateHandle = {
      operator_uid: '*', ...stored.place, size, checksum, key_group_start: snapshot.keyGroupStart, key_group_end: snapshot.keyGroupEnd,
      states: [...keyedStates, ...describeStates(f.head)],
    };
    target.written(handle, data);
    return handle;
  };
  const taskHead: TaskStateSnapshot = { ...snapshot, operators: { ...snapshot.operators } };
  if (capture && !target.keyedApart) taskHead.operators[headUid] = { ...taskHead.operators[headUid], keyed: keyedHead() };
  const taskFile = await start(target.taskFile, taskHead);
  let task: StateHandle | undefined;
  const keyed: StateHandle[] = [];
  if (capture) {
    let out: OpenFile | undefined = target.keyedApart ? undefined : taskFile;
    let part = 0;
    let inFile = 0;
    let turn = performance.now();
    // Parts end at whole key groups; a file ends after the part that fills it.
    for await (const chunk of capture.chunks(FRAGMENT_ENTRIES)) {
      // A keyed file carries no operator or channel state: those are in the task's own file.
      out ??= await start(target.keyedFile(part), {
        vertexId: snapshot.vertexId, subtask: snapshot.subtask, keyGroupStart: snapshot.keyGroupStart, keyGroupEnd: snapshot.keyGroupEnd,
        parallelism: snapshot.parallelism, operators: { [headUid]: { keyed: keyedHead() } },
      });
      for (const states of fragments(chunk, FRAGMENT_ENTRIES)) {
        for (const [name, s] of Object.entries(states)) if (s.groups.length) out.states.set(name, s.kind);
        out.writer.append({ uid: headUid, states });
        if (performance.now() - turn >= SLICE_MS) {
          await yieldToEventLoop();
          turn = performance.now();
        }
      }
      inFile += entriesOf(chunk);
      if (inFile >= KEYED_FILE_ENTRIES) {
        const handle = await finish(out);
        if (out === taskFile) task = handle;
        else keyed.push(handle);
        out = undefined;
        inFile = 0;
        part++;
      }
    }
    if (out && out !== taskFile) keyed.push(await finish(out));
  }
  task ??= await finish(taskFile);
  return { task, keyed };
}

function entriesOf(chunk: KeyedSnapshot): number {
  let n = 0;
  for (const s of Object.values(chunk.states)) for (const [, entries] of s.groups) n += entries.length;
  return n;
}

/** A part's states in fragments of at most `max` entries; a large key group is cut (the reader joins it again). */
function* fragments(chunk: KeyedSnapshot, max: number): Generator<KeyedSnapshot['states']> {
  let frag: KeyedSnapshot['states'] = {};
  let n = 0;
  for (const [name, s] of Object.entries(chunk.states)) {
    const into = () => (frag[name] ??= chunk.delta ? { kind: s.kind, groups: [], removed: [] } : { kind: s.kind, groups: [] });
    into();
    if (s.removed?.length) into().removed?.push(...s.removed);
    for (const [kg, entries] of s.groups) {
      for (let i = 0; i < entries.length;) {
        const take = Math.min(entries.length - i, max - n);
        into().groups.push([kg, take === entries.length ? entries : entries.slice(i, i + take)]);
        i += take;
        n += take;
        if (n >= max) {
          yield frag;
          frag = {};
          n = 0;
        }
      }
    }
  }
  if (Object.keys(frag).length) yield frag;
}

import { keyGroupFor, keyToString, RecordSerializer, type StateInfo } from '@weir/core';
import type { InputChannelState } from '../barrier/unaligned';
import type { OutputChannelState, RecordWriter } from '../network/record-writer';

/** The in-flight data an unaligned checkpoint stored for one subtask. */
export interface ChannelStateSnapshot {
  inputs: InputChannelState[];
  outputs: OutputChannelState[];
}

export function channelStateBytes(state: ChannelStateSnapshot): number {
  let bytes = 0;
  for (const input of state.inputs) for (const b of input.batches) bytes += b.length;
  for (const output of state.outputs) for (const sub of output.batches) for (const b of sub) bytes += b.length;
  return bytes;
}

/** Kind of the StateInfo that marks a state file holding in-flight data. */
export const CHANNEL_STATE_KIND = 'channel';

/**
 * Marks in-flight data in the handle's description, under the vertex's head operator, so
 * that a restore into a changed job graph can be refused before anything is deployed.
 */
export function describeChannelState(state: ChannelStateSnapshot | undefined, headUid: string): StateInfo[] {
  if (!state || channelStateBytes(state) === 0) return [];
  return [{ operator_uid: headUid, name: 'in-flight data', kind: CHANNEL_STATE_KIND, keyed: false }];
}

/** One old subtask's channel state, as found in its state file. */
export interface StoredChannelState {
  subtask: number;
  parallelism: number;
  state: ChannelStateSnapshot;
}

/**
 * Which recorded input records this subtask replays before new input. At the same
 * parallelism: its own. At another parallelism, a keyed task takes every old subtask's
 * records whose key group it now owns (they are routed by key, as new input will be);
 * any other task takes the records of the old subtasks s with s mod p = its index, so
 * every record is replayed exactly once somewhere.
 */
export function inputRecordsToReplay(
  stored: StoredChannelState[],
  subtask: number,
  parallelism: number,
  keyed?: { keySelector: (value: unknown) => unknown; maxParallelism: number; start: number; end: number },
  serializer = new RecordSerializer(),
): unknown[][] {
  const decodeBatch = (data: Uint8Array) => serializer.decodeBatch(data);
  const out: unknown[][] = [];
  for (const s of stored) {
    const same = s.parallelism === parallelism;
    if (!keyed || same) {
      if ((same ? s.subtask !== subtask : s.subtask % parallelism !== subtask)) continue;
      for (const input of s.state.inputs) for (const b of input.batches) out.push(decodeBatch(b));
      continue;
    }
    for (const input of s.state.inputs) {
      for (const b of input.batches) {
        const mine = decodeBatch(b).filter((r) => {
          const group = keyGroupFor(keyToString(keyed.keySelector(r), serializer.types), keyed.maxParallelism);
          return group >= keyed.start && group <= keyed.end;
        });
        if (mine.length > 0) out.push(mine);
      }
    }
  }
  return out;
}

/**
 * Puts the recorded output batches back in front of everything this subtask will emit.
 * Unchanged parallelism on both sides: each batch goes to the subpartition it was queued
 * for, as it was. Otherwise the old subtasks s with s mod p = this index hand theirs over,
 * and the records are routed again by the edge's partitioner (by key on hash edges).
 */
export function replayOutputs(stored: StoredChannelState[], subtask: number, parallelism: number, writers: RecordWriter[]): void {
  for (const s of stored) {
    const same = s.parallelism === parallelism;
    if (same ? s.subtask !== subtask : s.subtask % parallelism !== subtask) continue;
    for (const output of s.state.outputs) {
      const writer = writers.find((w) => w.consumerVertexId === output.consumerVertexId);
      if (!writer) continue;
      const sameShape = same && output.batches.length === writer.subpartitions.length;
      const { serializer } = writer;
      output.batches.forEach((batches, index) => {
        for (const data of batches) {
          if (sameShape || output.partitioning === 'BROADCAST') {
            const sub = writer.subpartitions[index];
            if (sub) sub.add({ kind: 'batch', data: Buffer.from(data), count: serializer.decodeBatch(data).length });
          } else {
            for (const record of serializer.decodeBatch(data)) writer.emit(record);
          }
        }
      });
    }
    for (const w of writers) w.flush();
  }
}

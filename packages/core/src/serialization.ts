import { Packr } from 'msgpackr';

// State snapshots and handles: plain msgpack maps, readable by any msgpack decoder.
const statePackr = new Packr({ useRecords: false });

// Record batches: msgpackr's record extension writes an object shape once per batch
// instead of its field names for every record (4x smaller, 2x faster for small records).
// Each batch carries its own shape definitions, so any process can decode it.
const batchPackr = new Packr({ useRecords: true });

export function encode(value: unknown): Buffer {
  return statePackr.pack(value);
}

export function decode<T = unknown>(data: Uint8Array): T {
  return statePackr.unpack(data) as T;
}

export function encodeBatch(records: unknown[]): Buffer {
  return batchPackr.pack(records);
}

export function decodeBatch(data: Uint8Array): unknown[] {
  return batchPackr.unpack(data) as unknown[];
}

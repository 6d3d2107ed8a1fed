import { Packr } from 'msgpackr';

// Records and state travel as msgpack: one encoding for batches, snapshots and handles.
const packr = new Packr({ useRecords: false });

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode<T = unknown>(data: Uint8Array): T {
  return packr.unpack(data) as T;
}

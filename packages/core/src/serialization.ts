import { addExtension, Packr } from 'msgpackr';
import { decodeColumnarWithKeyGroups, encodeColumnar, isColumnar, type KeyGroupColumn } from './columnar-batch';
import { JobError } from './errors';
import { NegativeZero, prepareValue, TypedInstance } from './value-contract';
import { NO_TYPES, type TypeRegistry } from './type-registry';

/**
 * msgpack with msgpackr's record extension (an object shape is written once per batch or
 * file instead of its field names for every value: 4x smaller, 2x faster for small
 * records) and its structured types (moreTypes: Set, typed arrays, RegExp, big BigInts).
 * Each batch and file carries its own shape definitions, so any process can decode it.
 * What may be encoded is decided by value-contract.ts; this file only writes and reads.
 */
const recordPackr = new Packr({ useRecords: true, moreTypes: true });
const statePackr = new Packr({ useRecords: true, moreTypes: true });
/** State files written before the contract: objects as plain msgpack maps. */
const legacyStatePackr = new Packr({ useRecords: false });

/** The registry of the job whose bytes are being decoded; msgpackr's read hooks have no context argument. */
let decodingTypes: TypeRegistry = NO_TYPES;

// Extension codes 0x57 ('W') and 0x5a ('Z') are unused by msgpackr's own extensions.
addExtension({
  Class: TypedInstance,
  type: 0x57,
  write: (instance: TypedInstance) => [instance.name, instance.fields],
  read: ([name, fields]: [string, Record<string, unknown>]) => {
    const type = decodingTypes.forName(name);
    if (!type) {
      throw new JobError(`a value holds an instance of class ${name}, which this job does not register: call env.registerType(${name}) in the job function`);
    }
    return Object.assign(Object.create(type.prototype) as object, fields);
  },
});
addExtension({
  Class: NegativeZero,
  type: 0x5a,
  write: () => 0,
  read: () => -0,
});

/**
 * Encodes and decodes one job's records and state by the contract: the job's registered
 * classes come back with their prototype. One per task; cheap to create.
 */
export class RecordSerializer {
  constructor(readonly types: TypeRegistry = NO_TYPES) {}

  /** Checks a value and marks what needs marking; throws a ContractViolation with the field's path. */
  prepare(value: unknown): unknown {
    return prepareValue(value, this.types);
  }

  /**
   * Records already passed through prepare(). A batch of flat records of one shape goes
   * as columns (columnar-batch.ts), any other as msgpack.
   */
  encodeBatch(prepared: unknown[], keyGroups?: KeyGroupColumn): Buffer {
    return encodeColumnar(prepared, keyGroups) ?? recordPackr.pack(prepared);
  }

  /**
   * Records as the operator emitted them: a batch that goes as columns is within the
   * contract as it is; any other batch is checked and prepared record by record (throws
   * the ContractViolation of the first record that breaks the contract) and goes as msgpack.
   * One check per record either way, where prepare() then encodeBatch() made two.
   */
  encodeRecords(records: unknown[], keyGroups?: KeyGroupColumn): Buffer {
    return encodeColumnar(records, keyGroups) ?? recordPackr.pack(records.map((r) => prepareValue(r, this.types)));
  }

  /** Either encoding, and batches stored before columns existed (unaligned checkpoints). */
  decodeBatch(data: Uint8Array): unknown[] {
    return this.decodeBatchWithKeyGroups(data).records;
  }

  /** The records, and their key groups when the producer sent them (columns from a hash edge). */
  decodeBatchWithKeyGroups(data: Uint8Array): { records: unknown[]; keyGroups?: KeyGroupColumn } {
    if (isColumnar(data)) return decodeColumnarWithKeyGroups(data);
    return { records: this.decodeWith(recordPackr, data) as unknown[] };
  }

  /** A whole state snapshot: prepared here, off the record path. */
  encodeState(snapshot: unknown): Buffer {
    return statePackr.pack(prepareValue(snapshot, this.types));
  }

  /** A snapshot is an object: one that decodes as a Map was written before the contract, with objects as msgpack maps. */
  decodeState<T>(data: Uint8Array): T {
    const value = this.decodeWith(statePackr, data);
    return (value instanceof Map ? legacyStatePackr.unpack(data) : value) as T;
  }

  /**
   * A state file written as several messages (a head, then fragments appended one by one):
   * every message, decoded. A file of one message (every file before fragments) gives one.
   */
  decodeStateMessages(data: Uint8Array): unknown[] {
    const values = this.withTypes(() => statePackr.unpackMultiple(data) as unknown[]);
    return values.length === 1 && values[0] instanceof Map ? [legacyStatePackr.unpack(data)] : values;
  }

  private decodeWith(packr: Packr, data: Uint8Array): unknown {
    return this.withTypes(() => packr.unpack(data));
  }

  /** Runs a decode with this job's registry in place: msgpackr's read hooks have no context argument. */
  private withTypes<T>(decode: () => T): T {
    const previous = decodingTypes;
    decodingTypes = this.types;
    try {
      return decode();
    } finally {
      decodingTypes = previous;
    }
  }

}

const plain = new RecordSerializer();

/** Values of jobs that register no classes (handles, tests). */
export function encode(value: unknown): Buffer {
  return plain.encodeState(value);
}

export function decode<T = unknown>(data: Uint8Array): T {
  return plain.decodeState<T>(data);
}

export function encodeBatch(records: unknown[]): Buffer {
  return plain.encodeRecords(records);
}

export function decodeBatch(data: Uint8Array): unknown[] {
  return plain.decodeBatch(data);
}

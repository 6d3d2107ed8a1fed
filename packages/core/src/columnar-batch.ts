/**
 * A record batch as columns, for the common batch whose records are plain objects of one
 * shape with number or boolean fields: a header names the fields and each field's column
 * type, then one column per field. Encoding and decoding skip msgpack's per-value type
 * tags and give back exactly what msgpack would (-0, NaN and integers beyond int32 travel
 * as float64). Any other batch returns undefined from encodeColumnar and goes through
 * msgpack; the marker byte in front tells the two apart. String fields stay with msgpack:
 * as UTF-8 columns they measured slower than msgpack (scripts/bench/batch-codec.ts).
 *
 *   0xc1 version:u8 count:u32 fields:u8 { type:u8 nameBytes:u8 name }*  column*
 *        keyGroupsOf:u32 [keyGroup:u16 * count when keyGroupsOf > 0]
 *   column: count values of the field's type, little endian
 *
 * A hash edge's producer adds each record's key group, computed for a max parallelism of
 * keyGroupsOf, so that a consumer of the same max parallelism need not hash the key again.
 */
/** A byte msgpack never uses ("never used" in its spec): no msgpack batch starts with it. */
export const COLUMNAR_MARKER = 0xc1;
const VERSION = 1;
const MAX_FIELDS = 64;

const INT8 = 1;
const INT16 = 2;
const INT32 = 3;
const FLOAT64 = 4;
const BOOL = 5;
const WIDTH = [0, 1, 2, 4, 8, 1];

type Row = Record<string, unknown>;

/**
 * Copies each record's fields into one column per field (booleans as 0 and 1) and sets
 * kinds[f] to 1 for numbers, 2 for booleans, 3 for both; false when a record has another
 * shape or a field of another type.
 */
type Extract = (records: unknown[], columns: Float64Array[], kinds: Uint8Array) => boolean;

/** A record shape seen on this side: its fields and the code that takes such records apart. */
interface Shape {
  names: string[];
  nameBytes: Buffer[];
  extract: Extract;
  /** As extract without copying: true when every record has this shape (so is within the contract). */
  matches: (records: unknown[]) => boolean;
  /** The same for one record. */
  matchesOne: (record: unknown) => boolean;
  /** Reused by every batch of this shape: encoding is synchronous. */
  columns: Float64Array[];
  kinds: Uint8Array;
}

const shapes = new Map<string, Shape | null>();

/**
 * The shape of a plain object whose fields are all numbers or booleans; undefined for any
 * other value, so that most batches that cannot go as columns are told by their first record.
 */
function shapeOf(value: unknown): Shape | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  let id = '';
  for (const name in value) {
    const type = typeof (value as Row)[name];
    if (type !== 'number' && type !== 'boolean') return undefined;
    id += name + '\0';
  }
  let shape = shapes.get(id);
  if (shape === undefined) {
    if (shapes.size >= 256) shapes.clear();
    shapes.set(id, (shape = newShape(id.split('\0').slice(0, -1))));
  }
  return shape ?? undefined;
}

function newShape(names: string[]): Shape | null {
  // An own "__proto__" field cannot be rebuilt by an object literal.
  if (names.length === 0 || names.length > MAX_FIELDS || names.includes('__proto__')) return null;
  const nameBytes = names.map((name) => Buffer.from(name, 'utf8'));
  if (nameBytes.some((b) => b.length > 255)) return null;
  // Generated so that each field is read by name (one hidden class, fast loads), as
  // msgpackr does for its records; every record's own fields are checked against the shape.
  const reads = names.map((name, f) => `const v${f} = r[${JSON.stringify(name)}];`).join(' ');
  const copies = names.map((name, f) => `if (typeof v${f} === 'number') { c${f}[i] = v${f}; k${f} |= 1; }
      else if (typeof v${f} === 'boolean') { c${f}[i] = v${f} ? 1 : 0; k${f} |= 2; }
      else return false;`).join('\n      ');
  const columns = names.map((_, f) => `c${f} = columns[${f}]`).join(', ');
  const kinds = names.map((_, f) => `k${f} = 0`).join(', ');
  const setKinds = names.map((_, f) => `kinds[${f}] = k${f};`).join(' ');
  // Whether record r has this shape, its fields read into v0, v1, ... Fields first: the
  // loads check the record's hidden class, after which its prototype is known without a
  // call (encoding 35.9 -> 26.5 ns a record in an A/B in one process, docs/benchmarks.md).
  const hasShape = `if (typeof r !== 'object' || r === null) return false;
      ${reads}
      if (Object.getPrototypeOf(r) !== Object.prototype) return false;
      let k = 0;
      for (const name in r) if (name !== names[k++]) return false;
      if (k !== ${names.length}) return false;`;
  // A record that passes is plain data by the contract (value-contract.ts): a plain object
  // whose fields are numbers or booleans. So records need not be checked before they come
  // here; the ones that do not pass are checked and prepared on their way to msgpack.
  const make = new Function('names', `return function extract(records, columns, kinds) {
    const ${columns};
    let ${kinds};
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      ${hasShape}
      ${copies}
    }
    ${setKinds}
    return true;
  };`) as (names: string[]) => Extract;
  const checks = names.map((_, f) => `if (typeof v${f} !== 'number' && typeof v${f} !== 'boolean') return false;`).join(' ');
  // As extract tests a record: about 14 ns a record where isFlatPlainData's generic loop
  // takes 25 (a scratch A/B in one process).
  const makeMatches = new Function('names', `
    function matchesOne(r) {
      ${hasShape}
      ${checks}
      return true;
    }
    function matches(records) {
      for (let i = 0; i < records.length; i++) if (!matchesOne(records[i])) return false;
      return true;
    }
    return { matches, matchesOne };`) as (names: string[]) => Pick<Shape, 'matches' | 'matchesOne'>;
  return {
    names, nameBytes, extract: make(names), ...makeMatches(names), columns: names.map(() => new Float64Array(0)), kinds: new Uint8Array(names.length),
  };
}

/**
 * True when every record is a plain object of the first one's shape with number or boolean
 * fields: within the contract as it is, checked at the cost of reading it once (a batch
 * handed to a consumer in the same thread is checked so, not encoded). False says nothing:
 * such records need the full check.
 */
export function isFlatBatch(records: unknown[]): boolean {
  if (records.length === 0) return true;
  const shape = shapeOf(records[0]);
  return shape !== undefined && shape.matches(records);
}

/**
 * A check for one stream of records (one link of an operator chain): true when a record
 * is flat data of the shape the stream's records had so far, or of a new flat shape it
 * then expects. False says nothing: such a record needs the full check.
 */
export function flatRecordMatcher(): (record: unknown) => boolean {
  let matchesOne: ((record: unknown) => boolean) | undefined;
  return (record) => {
    if (matchesOne !== undefined && matchesOne(record)) return true;
    const shape = shapeOf(record);
    if (shape === undefined) return false;
    matchesOne = shape.matchesOne;
    return matchesOne(record);
  };
}

/** The narrowest column type that holds the first `count` numbers exactly. */
function numberColumnType(values: Float64Array, count: number): number {
  let min = 0;
  let max = 0;
  let integers = true;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (integers && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v < min) min = v;
      else if (v > max) max = v;
    } else {
      integers = false;
    }
  }
  if (!integers) return FLOAT64;
  if (min >= -0x80 && max <= 0x7f) return INT8;
  if (min >= -0x8000 && max <= 0x7fff) return INT16;
  return INT32;
}

/**
 * The batch as columns, or undefined when its records are not all plain objects of one
 * shape with number or boolean fields. Such records are within the contract as they are
 * (-0 and NaN travel as float64), so they need not have passed prepareValue.
 */
export function encodeColumnar(records: unknown[], keyGroups?: KeyGroupColumn): Buffer | undefined {
  const count = records.length;
  const withGroups = keyGroups !== undefined && keyGroups.maxParallelism <= 0x10000 && keyGroups.groups.length === count;
  if (count === 0) return undefined;
  const shape = shapeOf(records[0]);
  if (!shape) return undefined;
  const { names, nameBytes, columns, kinds } = shape;
  if (columns[0].length < count) for (let f = 0; f < names.length; f++) columns[f] = new Float64Array(Math.max(count, 512));
  if (!shape.extract(records, columns, kinds)) return undefined;
  const types: number[] = [];
  let size = 7 + 4 + (withGroups ? 2 * count : 0);
  for (let f = 0; f < names.length; f++) {
    const kind = kinds[f];
    if (kind === 3) return undefined;
    const type = kind === 2 ? BOOL : numberColumnType(columns[f], count);
    types.push(type);
    size += 2 + nameBytes[f].length + WIDTH[type] * count;
  }
  const out = Buffer.allocUnsafe(size);
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  out[0] = COLUMNAR_MARKER;
  out[1] = VERSION;
  view.setUint32(2, count, true);
  out[6] = names.length;
  let at = 7;
  for (let f = 0; f < names.length; f++) {
    out[at++] = types[f];
    out[at++] = nameBytes[f].length;
    nameBytes[f].copy(out, at);
    at += nameBytes[f].length;
  }
  for (let f = 0; f < names.length; f++) at = writeColumn(columns[f], count, types[f], out, view, at);
  view.setUint32(at, withGroups ? keyGroups.maxParallelism : 0, true);
  at += 4;
  if (withGroups) for (let i = 0; i < count; i++) view.setUint16(at + 2 * i, keyGroups.groups[i], true);
  return out;
}

function writeColumn(values: Float64Array, count: number, type: number, out: Buffer, view: DataView, at: number): number {
  switch (type) {
    case INT8:
      for (let i = 0; i < count; i++) view.setInt8(at + i, values[i]);
      return at + count;
    case INT16:
      for (let i = 0; i < count; i++) view.setInt16(at + 2 * i, values[i], true);
      return at + 2 * count;
    case INT32:
      for (let i = 0; i < count; i++) view.setInt32(at + 4 * i, values[i], true);
      return at + 4 * count;
    case FLOAT64:
      for (let i = 0; i < count; i++) view.setFloat64(at + 8 * i, values[i], true);
      return at + 8 * count;
  }
  for (let i = 0; i < count; i++) out[at + i] = values[i];
  return at + count;
}

export function isColumnar(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === COLUMNAR_MARKER;
}

/** Reads `count` rows of one shape and column types straight from the batch, starting at each column's offset. */
type RowReader = (data: Uint8Array, view: DataView, offsets: number[], count: number) => Row[];
const readers = new Map<string, RowReader>();

/** How one value of a column type is read at row i (the column starts at `o`). */
function readExpression(type: number, f: number): string {
  switch (type) {
    case INT8:
      return `view.getInt8(o${f} + i)`;
    case INT16:
      return `view.getInt16(o${f} + 2 * i, true)`;
    case INT32:
      return `view.getInt32(o${f} + 4 * i, true)`;
    case FLOAT64:
      return `view.getFloat64(o${f} + 8 * i, true)`;
    case BOOL:
      return `data[o${f} + i] === 1`;
  }
  throw new Error(`columnar record batch has a column of unknown type ${type}`);
}

/**
 * Builds rows of one shape by an object literal, so every row gets the same hidden class
 * at once (as msgpackr does for its records) instead of growing one field at a time, and
 * reads each field from its column as the row is built (no column arrays in between).
 */
function readerFor(names: string[], types: number[]): RowReader {
  const id = JSON.stringify([names, types]);
  let reader = readers.get(id);
  if (!reader) {
    if (readers.size >= 256) readers.clear();
    const offsets = names.map((_, f) => `o${f} = offsets[${f}]`).join(', ');
    const fields = names.map((name, f) => `${JSON.stringify(name)}: ${readExpression(types[f], f)}`).join(', ');
    reader = new Function('data', 'view', 'offsets', 'count', `const ${offsets};
      const rows = new Array(count);
      for (let i = 0; i < count; i++) rows[i] = { ${fields} };
      return rows;`) as RowReader;
    readers.set(id, reader);
  }
  return reader;
}

/** Each record's key group, as computed by the producer for a max parallelism. */
export interface KeyGroupColumn {
  maxParallelism: number;
  groups: ArrayLike<number>;
}

export function decodeColumnar(data: Uint8Array): unknown[] {
  return decodeColumnarWithKeyGroups(data).records;
}

export function decodeColumnarWithKeyGroups(data: Uint8Array): { records: unknown[]; keyGroups?: KeyGroupColumn } {
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  if (data[1] !== VERSION) throw new Error(`columnar record batch of unknown version ${data[1]}`);
  const count = view.getUint32(2, true);
  const fieldCount = data[6];
  if (fieldCount === 0 || fieldCount > MAX_FIELDS) throw new Error(`columnar record batch has ${fieldCount} fields`);
  let at = 7;
  const names: string[] = [];
  const types: number[] = [];
  for (let f = 0; f < fieldCount; f++) {
    types.push(data[at++]);
    const length = data[at++];
    const name = Buffer.from(data.buffer, data.byteOffset + at, length).toString('utf8');
    if (name === '__proto__') throw new Error('columnar record batch names a field __proto__');
    names.push(name);
    at += length;
  }
  const offsets: number[] = [];
  for (let f = 0; f < fieldCount; f++) {
    if (types[f] < INT8 || types[f] > BOOL) throw new Error(`columnar record batch has a column of unknown type ${types[f]}`);
    offsets.push(at);
    at += WIDTH[types[f]] * count;
  }
  if (at + 4 > data.length) throw new Error('columnar record batch is shorter than its columns');
  const records: unknown[] = readerFor(names, types)(data, view, offsets, count);
  const maxParallelism = view.getUint32(at, true);
  if (maxParallelism === 0) return { records };
  const groups = new Uint16Array(count);
  for (let i = 0; i < count; i++) groups[i] = view.getUint16(at + 4 + 2 * i, true);
  return { records, keyGroups: { maxParallelism, groups } };
}


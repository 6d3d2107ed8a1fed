import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { COLUMNAR_MARKER, decodeColumnar, decodeColumnarWithKeyGroups, encodeColumnar, flatRecordMatcher, isFlatBatch } from './columnar-batch';
import { RecordSerializer } from './serialization';
import { NO_TYPES, TypeRegistry } from './type-registry';
import { prepareValue } from './value-contract';

/** The msgpack encoding batches had before columns (and still have when columns do not fit). */
const msgpack = new Packr({ useRecords: true, moreTypes: true });

function viaColumns(records: unknown[]): unknown[] {
  const data = encodeColumnar(records);
  expect(data, 'expected a columnar batch').toBeDefined();
  expect((data as Buffer)[0]).toBe(COLUMNAR_MARKER);
  return decodeColumnar(data as Buffer);
}

/**
 * What the msgpack path gives for the same records (prepared by the contract, which marks
 * -0): same values (Object.is for numbers: -0 and NaN), same field order, plain prototypes.
 */
function expectSameAsMsgpack(records: unknown[]): void {
  const expected = msgpack.unpack(msgpack.pack(records.map((r) => prepareValue(r, NO_TYPES)))) as unknown[];
  const got = viaColumns(records);
  expect(got).toEqual(expected);
  got.forEach((row, i) => {
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row as object)).toEqual(Object.keys(expected[i] as object));
    for (const [k, v] of Object.entries(row as object)) expect(Object.is(v, (expected[i] as Record<string, unknown>)[k])).toBe(true);
  });
}

describe('columnar record batches', () => {
  it('carry the bench record shape: small integers', () => {
    expectSameAsMsgpack(Array.from({ length: 512 }, (_, i) => ({ key: i % 10_000, value: 1 })));
  });

  it('carry every integer width and the numbers only float64 holds', () => {
    const numbers = [0, 1, -1, 127, -128, 128, -129, 32767, -32768, 32768, -32769, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1,
      2 ** 53 + 2, -(2 ** 60), Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, 0.1, -2.5, NaN, Infinity, -Infinity, -0];
    for (const n of numbers) expectSameAsMsgpack([{ n }, { n: 0 }]);
    expectSameAsMsgpack(numbers.map((n) => ({ n })));
    expect(Object.is((viaColumns([{ n: -0 }])[0] as { n: number }).n, -0)).toBe(true);
  });

  it('carry booleans and many fields in their order, under any field name', () => {
    expectSameAsMsgpack(Array.from({ length: 9 }, (_, i) => ({ flag: i % 2 === 0, 'field with space': i, z: 0.5, 'ü日😀': -i })));
    expectSameAsMsgpack([{ b: 1, a: 2, '2': true, '1': 0.5 }, { b: 3, a: 4, '2': false, '1': 7 }]);
    expectSameAsMsgpack([{ [`ü${'n'.repeat(100)}`]: true }]);
    expectSameAsMsgpack([Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`f${i}`, i * 1000]))]);
  });

  it('leave every other batch to msgpack', () => {
    class Point { x = 1; }
    const notColumnar: [string, unknown[]][] = [
      ['empty batch', []],
      ['not objects', [1, 'a']],
      ['a nested object', [{ a: { b: 1 } }]],
      ['an array field', [{ a: [1] }]],
      ['null', [{ a: null }]],
      ['undefined', [{ a: undefined }]],
      ['a bigint', [{ a: 1n }]],
      ['a Date', [{ a: new Date(0) }]],
      ['types differ between records', [{ a: 1 }, { a: '1' }]],
      ['a record of another shape', [{ a: 1 }, { b: 1 }]],
      ['fields in another order', [{ a: 1, b: 2 }, { b: 2, a: 1 }]],
      ['a missing field', [{ a: 1, b: 2 }, { a: 1 }]],
      ['a string among objects', [{ a: 1 }, 'a']],
      ['an instance of a class', [new Point()]],
      ['no prototype', [Object.assign(Object.create(null) as object, { a: 1 })]],
      ['a string (msgpack is faster for text)', [{ s: 'a' }]],
      ['a string in a later record', [{ s: 1 }, { s: 'a' }]],
      ['an own __proto__ field', [JSON.parse('{"__proto__": 1}') as unknown]],
      ['no fields', [{}]],
      ['a field name past 255 bytes', [{ ['n'.repeat(256)]: 1 }]],
      ['more than 64 fields', [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i]))]],
    ];
    for (const [why, records] of notColumnar) expect(encodeColumnar(records), why).toBeUndefined();
  });

  it('through the serializer: either encoding comes back exact, and batches written before columns still decode', () => {
    const types = new TypeRegistry();
    class Tagged { constructor(public n: number) {} }
    types.register(Tagged);
    const s = new RecordSerializer(types);
    const batches: unknown[][] = [
      [{ key: 1, value: 1 }, { key: 2, value: 1 }],
      [{ key: 1, value: -0 }, { key: 2, value: 1 }],
      [{ key: 'a', t: new Tagged(2) }],
      [{ key: 1, value: 1 }, 'word', 7],
      [{ key: 'ü', value: 1 }, { key: '😀', value: 2 }],
    ];
    for (const batch of batches) {
      const back = s.decodeBatch(s.encodeBatch(batch.map((r) => s.prepare(r))));
      expect(back).toEqual(batch);
      expect(Object.is((back[0] as { value?: number }).value, (batch[0] as { value?: number }).value)).toBe(true);
      expect(s.decodeBatch(msgpack.pack(batch.map((r) => s.prepare(r))))).toEqual(batch);
    }
    expect(s.encodeBatch([{ key: 1, value: 1 }])[0]).toBe(COLUMNAR_MARKER);
    expect(s.encodeBatch([{ key: 1, value: { n: 1 } }])[0]).not.toBe(COLUMNAR_MARKER);
    expect(s.decodeBatch(s.encodeBatch([s.prepare(new Tagged(3))]))[0]).toBeInstanceOf(Tagged);
  });

  it('decode from a slice at any offset of a larger buffer, as gRPC hands them over', () => {
    const data = encodeColumnar([{ a: 1.5, b: 1, c: 300, d: true }, { a: 2 ** 40, b: -1, c: 2, d: false }]) as Buffer;
    for (let offset = 0; offset < 9; offset++) {
      const outer = Buffer.alloc(data.length + 16);
      data.copy(outer, offset);
      expect(decodeColumnar(outer.subarray(offset, offset + data.length))).toEqual([{ a: 1.5, b: 1, c: 300, d: true }, { a: 2 ** 40, b: -1, c: 2, d: false }]);
    }
  });

  it('carry the key groups a hash edge adds, and only with the records they belong to', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ key: i, value: 1 }));
    const groups = records.map((_, i) => (i * 7919) % 32768);
    const withGroups = decodeColumnarWithKeyGroups(encodeColumnar(records, { maxParallelism: 32768, groups }) as Buffer);
    expect(withGroups.records).toEqual(records);
    expect(withGroups.keyGroups?.maxParallelism).toBe(32768);
    expect(Array.from(withGroups.keyGroups?.groups ?? [])).toEqual(groups);
    expect(decodeColumnarWithKeyGroups(encodeColumnar(records) as Buffer).keyGroups).toBeUndefined();
    expect(decodeColumnarWithKeyGroups(encodeColumnar(records, { maxParallelism: 1 << 20, groups }) as Buffer).keyGroups).toBeUndefined();
    expect(decodeColumnarWithKeyGroups(encodeColumnar(records, { maxParallelism: 128, groups: groups.slice(1) }) as Buffer).keyGroups).toBeUndefined();
  });

  it('refuse a batch of an unknown version', () => {
    const data = encodeColumnar([{ a: 1 }]) as Buffer;
    data[1] = 99;
    expect(() => decodeColumnar(data)).toThrow('unknown version 99');
  });

  it('refuse a damaged batch with one clear error: cut short, no fields, a column type it does not know', () => {
    const records = Array.from({ length: 100 }, (_, i) => ({ key: i * 1000, value: i % 2 === 0 }));
    const data = encodeColumnar(records) as Buffer;
    expect(() => decodeColumnar(data.subarray(0, data.length - 60))).toThrow('shorter than its columns');
    const noFields = Buffer.from(data);
    noFields[6] = 0;
    expect(() => decodeColumnar(noFields)).toThrow('has 0 fields');
    const badType = Buffer.from(data);
    badType[7] = 9;
    expect(() => decodeColumnar(badType)).toThrow('column of unknown type 9');
  });

  it('read rows of two shapes with the same field names but other column types apart', () => {
    expect(viaColumns([{ a: 1, b: true }])).toEqual([{ a: 1, b: true }]);
    expect(viaColumns([{ a: 1.5, b: 70_000 }])).toEqual([{ a: 1.5, b: 70_000 }]);
    expect(viaColumns([{ a: -3, b: false }])).toEqual([{ a: -3, b: false }]);
  });

  it('tell a batch that is within the contract as it is (flat, one shape, numbers and booleans) from one that needs the full check', () => {
    expect(isFlatBatch([])).toBe(true);
    expect(isFlatBatch([{ key: 1, value: 2 }, { key: -0, value: NaN }, { key: 1.5, value: Infinity }])).toBe(true);
    expect(isFlatBatch([{ a: true, b: 1 }, { a: false, b: 0 }])).toBe(true);
    class Point {
      constructor(readonly key: number) {}
    }
    const refused: unknown[][] = [
      [{ key: 1 }, { key: 1, extra: 2 }],
      [{ a: 1, b: 2 }, { b: 2, a: 1 }],
      [{ key: 1 }, { key: 'text' }],
      [{ key: 1 }, { key: { nested: 1 } }],
      [{ key: 1 }, { key: () => 1 }],
      [{ key: 1 }, new Point(1)],
      [{ key: 1 }, Object.assign(Object.create(null) as object, { key: 1 })],
      [{ key: 1 }, null],
      [{ key: 1 }, 5],
      ['text'],
      [{}],
    ];
    for (const batch of refused) expect(isFlatBatch(batch)).toBe(false);
  });

  it('check a stream of records one by one the same way, following a change of shape', () => {
    const flat = flatRecordMatcher();
    expect([{ key: 1, sum: 2 }, { key: 3, sum: -0 }].map(flat)).toEqual([true, true]);
    expect(flat({ key: 1, sum: 2, extra: 3 })).toBe(true); // another flat shape: learnt
    expect(flat({ key: 1, sum: 2 })).toBe(true);
    for (const other of [{ sum: 2, key: 1, f: () => 1 }, { key: 'text', sum: 1 }, { key: { a: 1 }, sum: 1 }, Object.assign(Object.create(null) as object, { key: 1, sum: 2 }), 'text', 5, null, undefined, {}]) {
      expect(flat(other)).toBe(false);
    }
    expect(flat({ key: 1, sum: 2 })).toBe(true);
  });
});

import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { JobError } from './errors';
import { decode, RecordSerializer } from './serialization';
import { TypeRegistry } from './type-registry';
import { ContractViolation } from './value-contract';

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  norm1(): number {
    return Math.abs(this.x) + Math.abs(this.y);
  }
}

class Counter {
  n = 0;
  label?: Point;
  inc(): this {
    this.n++;
    return this;
  }
}

class Unregistered {
  v = 1;
}

function serializerWith(...classes: (new (...a: never[]) => unknown)[]): RecordSerializer {
  const types = new TypeRegistry();
  for (const c of classes) types.register(c);
  return new RecordSerializer(types);
}

const s = serializerWith(Point, Counter);

/** Through a record batch (records crossing tasks) and through a state file. */
function roundTrips(value: unknown, serializer = s): [unknown, unknown] {
  const viaBatch = serializer.decodeBatch(serializer.encodeBatch([serializer.prepare(value)]))[0];
  const viaState = serializer.decodeState<{ v: unknown }>(serializer.encodeState({ v: value })).v;
  return [viaBatch, viaState];
}

/** The contract's error for a value, as a task would report it. */
function violation(value: unknown, serializer = s): string {
  try {
    serializer.prepare(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ContractViolation);
    return (err as ContractViolation).toJobError('operator Map (uid map-2) emitted a record that cannot be serialized', 'record').message;
  }
  throw new Error('expected a contract violation');
}

describe('the serializer contract: what round-trips exactly', () => {
  const cases: [string, unknown][] = [
    ['strings, numbers, booleans, null', ['a', 1, 1.5, true, false, null, '']],
    ['NaN and infinities', [NaN, Infinity, -Infinity]],
    ['large integers and floats', [2 ** 53 + 2, -(2 ** 40), 1e-300, Number.MAX_VALUE]],
    ['Date, including an invalid one', [new Date(1_700_000_000_123), new Date(NaN), new Date(-1)]],
    ['Map with any keys', new Map<unknown, unknown>([['a', 1], [2, { b: [3] }], [true, null]])],
    ['Set', new Set([1, 'a', 2n])],
    ['BigInt, small, negative and beyond 64 bits', [0n, 5n, -7n, 2n ** 70n, -(2n ** 80n)]],
    ['typed arrays', [new Uint8Array([1, 2]), new Int8Array([-1]), new Uint16Array([65535]), new Int32Array([-5]), new Float32Array([1.5]), new Float64Array([Math.PI]), new BigInt64Array([-3n]), new BigUint64Array([3n]), new Uint8ClampedArray([255])]],
    ['Buffer and ArrayBuffer', [Buffer.from('hi'), new Uint8Array([9, 8]).buffer]],
    ['RegExp', [/ab+c/gi]],
    ['undefined fields and elements', { a: undefined, b: [undefined, 1] }],
    ['nested combinations', { when: new Date(5), tags: new Set(['x']), index: new Map([['k', { ids: [1n, 2n], bytes: new Uint8Array([7]) }]]) }],
  ];
  it.each(cases)('%s', (_name, value) => {
    for (const out of roundTrips(value)) expect(out).toStrictEqual(value);
  });

  it('-0 stays -0, at the top, in objects, arrays, Maps and Sets', () => {
    const value = { z: -0, list: [0, -0], m: new Map([['k', -0]]), s: new Set([-0]) };
    for (const out of roundTrips(value) as (typeof value)[]) {
      expect(Object.is(out.z, -0)).toBe(true);
      expect(Object.is(out.list[0], 0)).toBe(true);
      expect(Object.is(out.list[1], -0)).toBe(true);
      expect(Object.is(out.m.get('k'), -0)).toBe(true);
    }
    for (const out of roundTrips(-0)) expect(Object.is(out, -0)).toBe(true);
  });

  it('a hole in an array arrives as undefined', () => {
    // eslint-disable-next-line no-sparse-arrays
    for (const out of roundTrips([1, , 3]) as unknown[][]) {
      expect(Object.keys(out)).toEqual(['0', '1', '2']); // present, not a hole
      expect(out[1]).toBeUndefined();
    }
  });

  it('an undefined field is still a field', () => {
    for (const out of roundTrips({ a: undefined }) as object[]) expect(Object.keys(out)).toEqual(['a']);
  });

  it('registered classes keep their prototype and methods, nested anywhere', () => {
    const c = new Counter();
    c.label = new Point(3, -4);
    const value = { c, points: [new Point(1, 2)], byName: new Map([['p', new Point(0, -0)]]), set: new Set([new Point(5, 5)]) };
    for (const out of roundTrips(value) as (typeof value)[]) {
      expect(out.c).toBeInstanceOf(Counter);
      expect(out.c.inc().n).toBe(1);
      expect(out.c.label).toBeInstanceOf(Point);
      expect(out.c.label?.norm1()).toBe(7);
      expect(out.points[0].norm1()).toBe(3);
      expect(out.byName.get('p')).toBeInstanceOf(Point);
      expect(Object.is(out.byName.get('p')?.y, -0)).toBe(true);
      expect([...out.set][0].norm1()).toBe(10);
    }
  });

  it('plain data is not copied on its way to the wire', () => {
    const record = { key: 'k', value: 1, nested: { list: [1, 2, 'x'] } };
    expect(s.prepare(record)).toBe(record);
    expect(s.prepare('text')).toBe('text');
  });

  it('prepare never changes the value the operator emitted', () => {
    const record = { p: new Point(1, -0) };
    s.prepare(record);
    expect(record.p).toBeInstanceOf(Point);
    expect(Object.is(record.p.y, -0)).toBe(true);
  });

  it('reads state files written before the contract (plain msgpack maps)', () => {
    const before = { vertexId: 'v2', operators: { sum: { keyed: { range: { start: 0, end: 127 }, states: { 'sum/sum': { kind: 'value', groups: [[3, [['s:a', 5]]]] } } } } } };
    expect(decode(new Packr({ useRecords: false }).pack(before))).toStrictEqual(before);
  });

  it('a process whose job does not register the class refuses to decode it, naming the fix', () => {
    const bytes = s.encodeBatch([s.prepare(new Point(1, 2))]);
    expect(() => new RecordSerializer().decodeBatch(bytes)).toThrow(JobError);
    expect(() => new RecordSerializer().decodeBatch(bytes)).toThrow('holds an instance of class Point, which this job does not register: call env.registerType(Point) in the job function');
  });
});

describe('the serializer contract: what fails, with the operator, the field path and the fix', () => {
  it('a function field', () => {
    expect(violation({ items: [{}, {}, { handler: function onClick() {} }] })).toBe(
      'operator Map (uid map-2) emitted a record that cannot be serialized: record.items[2].handler is a function (onClick); records and state hold data only: drop the field and keep the function in the operator',
    );
  });

  it('a symbol', () => {
    expect(violation({ tag: Symbol('t') })).toBe(
      'operator Map (uid map-2) emitted a record that cannot be serialized: record.tag is a symbol (Symbol(t)); symbols cannot be serialized: use a string',
    );
  });

  it('an unregistered class instance', () => {
    expect(violation({ a: { 'odd key': new Unregistered() } })).toBe(
      'operator Map (uid map-2) emitted a record that cannot be serialized: record.a["odd key"] is an instance of class Unregistered, which is not registered; call env.registerType(Unregistered) in the job function',
    );
  });

  it('an Error object', () => {
    expect(violation([new TypeError('bad')])).toBe(
      'operator Map (uid map-2) emitted a record that cannot be serialized: record[0] is an Error (TypeError: bad); send String(err) or { name: err.name, message: err.message } instead',
    );
  });

  it('a circular reference, naming where it closes', () => {
    const node: Record<string, unknown> = { id: 1, child: { id: 2 } };
    (node.child as Record<string, unknown>).parent = node;
    expect(violation(node)).toBe(
      'operator Map (uid map-2) emitted a record that cannot be serialized: record.child.parent refers back to record (a circular reference); records and state must be trees: send an id instead of the reference',
    );
  });

  it('inside Maps, Sets and registered classes', () => {
    expect(violation({ m: new Map([['k', () => 1]]) })).toContain('record.m.get("k") is a function');
    expect(violation({ s: new Set([1, Symbol.iterator]) })).toContain('record.s.values()[1] is a symbol');
    const c = new Counter();
    (c as unknown as { cb: unknown }).cb = () => 0;
    expect(violation({ c })).toContain('record.c.cb is a function');
  });

  it('Promises and weak collections', () => {
    expect(violation({ p: Promise.resolve(1) })).toContain('record.p is a Promise, which is not data');
    expect(violation(new WeakMap())).toContain('record is a WeakMap, which is not data');
  });

  it('a subclass of a registered class must be registered itself', () => {
    class Point3 extends Point {
      z = 0;
    }
    expect(violation(new Point3(1, 2))).toContain('record is an instance of class Point3, which is not registered; call env.registerType(Point3)');
  });
});

describe('TypeRegistry', () => {
  it('refuses what is not a class, built-ins, nameless classes and two classes under one name', () => {
    const types = new TypeRegistry();
    expect(() => types.register(42 as never)).toThrow('registerType: expected a class, got number');
    expect(() => types.register(Map)).toThrow('registerType: Map is built in');
    expect(() => types.register((() => class {})())).toThrow('the class has no name');
    types.register(Point);
    types.register(Point); // the same class again is fine
    class Other {}
    expect(() => types.register(Other, 'Point')).toThrow('two classes are registered as "Point"');
  });
});

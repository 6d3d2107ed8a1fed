import { describe, expect, it } from 'vitest';
import { keyToString } from './key-text';
import { TypeRegistry } from './type-registry';
import { ContractViolation } from './value-contract';

function refusal(key: unknown): string {
  try {
    keyToString(key);
  } catch (err) {
    expect(err).toBeInstanceOf(ContractViolation);
    return (err as ContractViolation).toJobError('the key selector of Sum (uid sum)', 'key').message;
  }
  throw new Error(`expected ${String(key)} to be refused as a key`);
}

describe('keys as Flink treats them', () => {
  it('refuses null and undefined keys, naming the operator', () => {
    expect(refusal(undefined)).toBe('the key selector of Sum (uid sum): key is undefined; keys cannot be null or undefined (as in Flink): return a value for every record');
    expect(refusal(null)).toBe('the key selector of Sum (uid sum): key is null; keys cannot be null or undefined (as in Flink): return a value for every record');
  });

  it('refuses functions, symbols and objects that are not data, with the field path', () => {
    expect(refusal(() => 1)).toContain('key is a function');
    expect(refusal(Symbol('a'))).toContain('key is a symbol');
    expect(refusal({ user: { handler: () => 1 } })).toContain('key.user.handler is a function');
    expect(refusal([1, new Set()])).toContain('key[1] is a Set, which cannot be part of a key');
    expect(refusal(new Map())).toContain('key is a Map, which cannot be part of a key');
  });

  it('normalises plain object keys: field order does not matter, nested either', () => {
    expect(keyToString({ a: 1, b: 'x' })).toBe(keyToString({ b: 'x', a: 1 }));
    expect(keyToString({ o: { y: 1, x: [1, { q: 1, p: 2 }] } })).toBe(keyToString({ o: { x: [1, { p: 2, q: 1 }], y: 1 } }));
    expect(keyToString({ a: 1, b: undefined })).toBe(keyToString({ a: 1 }));
    expect(keyToString({ a: 1 })).not.toBe(keyToString({ a: 2 }));
  });

  it('takes BigInt keys, apart from equal numbers and strings', () => {
    expect(keyToString(5n)).toBe('n:5');
    expect(keyToString(2n ** 70n)).toBe('n:1180591620717411303424');
    expect(keyToString(5n)).not.toBe(keyToString(5));
    expect(keyToString([5n])).not.toBe(keyToString([5]));
  });

  it('keeps keys apart that JSON would merge', () => {
    const texts = [NaN, null, Infinity, -Infinity, 'NaN', [null], [undefined], [NaN]].map((k) => {
      try {
        return keyToString(k);
      } catch {
        return 'refused';
      }
    });
    expect(texts).toEqual(['j:NaN', 'refused', 'j:Infinity', 'j:-Infinity', 's:NaN', 'j:[null]', 'j:[undefined]', 'j:[NaN]']);
  });

  it('-0 and 0 are one key (as in a JavaScript Map); Dates by their time', () => {
    expect(keyToString(-0)).toBe(keyToString(0));
    expect(keyToString(new Date(5))).toBe('d:5');
    expect(keyToString(new Date(5))).toBe(keyToString(new Date(5)));
  });

  it('registered class instances are keys by class name and sorted fields', () => {
    class UserId {
      constructor(
        readonly tenant: string,
        readonly id: number,
      ) {}
    }
    const types = new TypeRegistry();
    types.register(UserId);
    expect(keyToString(new UserId('t', 1), types)).toBe('j:UserId{"id":1,"tenant":"t"}');
    expect(() => keyToString(new UserId('t', 1))).toThrow('is a UserId, which cannot be part of a key');
  });

  it('keeps the text of string, number and tuple keys (the state of earlier checkpoints is stored under it)', () => {
    expect(keyToString('a')).toBe('s:a');
    expect(keyToString(1)).toBe('j:1');
    expect(keyToString(1.5)).toBe('j:1.5');
    expect(keyToString(true)).toBe('j:true');
    expect(keyToString(['a', 1])).toBe('j:["a",1]');
  });
});

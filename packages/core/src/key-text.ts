import { ContractViolation } from './value-contract';
import { NO_TYPES, type TypeRegistry } from './type-registry';

/**
 * The canonical text of a key: equal keys give equal text in every process and every
 * version, so the text is what keyed state is stored under and what is hashed into a key
 * group (key-groups.ts). The forms are part of the on-disk format: changing one moves keys
 * to other key groups, which the golden test in key-groups.test.ts catches.
 *
 *   string "a"                 s:a
 *   number 1, -0, NaN          j:1, j:0, j:NaN
 *   boolean                    j:true
 *   bigint 5n                  n:5
 *   Date                       d:<epoch ms>
 *   array, plain object,       j:<canonical text>: JSON for strings, numbers, booleans and
 *   registered class instance  null; object fields sorted by name, undefined fields left
 *                              out; 5n, NaN, Infinity, undefined, Date(ms) and
 *                              ClassName{...} written as such
 *
 * null, undefined, functions, symbols and other objects are refused (ContractViolation).
 */
export function keyToString(key: unknown, types: TypeRegistry = NO_TYPES): string {
  if (typeof key === 'string') return `s:${key}`;
  // Same text as JSON.stringify for finite numbers (and -0 prints as 0), without its cost.
  if (typeof key === 'number' && Number.isFinite(key)) return `j:${key}`;
  return otherKeyText(key, types);
}

const FIX_NULL = 'keys cannot be null or undefined (as in Flink): return a value for every record';
const FIX_TYPE = 'key by a string, number, bigint, boolean or Date, or an array or plain object of those';

function otherKeyText(key: unknown, types: TypeRegistry): string {
  switch (typeof key) {
    case 'number':
      return `j:${String(key)}`;
    case 'boolean':
      return `j:${key}`;
    case 'bigint':
      return `n:${key}`;
    case 'undefined':
      throw new ContractViolation('is undefined', FIX_NULL);
  }
  if (key === null) throw new ContractViolation('is null', FIX_NULL);
  if (key instanceof Date) return `d:${key.getTime()}`;
  return `j:${composite(key, types, 0)}`;
}

function composite(value: unknown, types: TypeRegistry, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      throw new ContractViolation('is a symbol', FIX_TYPE);
    case 'function':
      throw new ContractViolation('is a function', FIX_TYPE);
  }
  if (value === null) return 'null';
  if (depth > 100) throw new ContractViolation('is nested more than 100 levels deep (or circular)', FIX_TYPE);
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Array.prototype) {
    const array = value as unknown[];
    let out = '[';
    for (let i = 0; i < array.length; i++) {
      try {
        out += (i > 0 ? ',' : '') + composite(array[i], types, depth + 1);
      } catch (err) {
        throw at(err, `[${i}]`);
      }
    }
    return out + ']';
  }
  if (proto === Date.prototype) return `Date(${(value as Date).getTime()})`;
  if (proto === Object.prototype || proto === null) return fields(value as Record<string, unknown>, types, depth);
  const registered = types.forPrototype(proto as object);
  if (registered) return `${registered.name}${fields(value as Record<string, unknown>, types, depth)}`;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  throw new ContractViolation(`is ${name ? `a ${name}` : 'an object'}, which cannot be part of a key`, FIX_TYPE);
}

/** Fields sorted by name, so {a, b} and {b, a} are one key. */
function fields(object: Record<string, unknown>, types: TypeRegistry, depth: number): string {
  const names = Object.keys(object);
  if (!isSorted(names)) names.sort();
  let out = '{';
  for (const name of names) {
    const v = object[name];
    if (v === undefined) continue;
    try {
      out += (out.length > 1 ? ',' : '') + JSON.stringify(name) + ':' + composite(v, types, depth + 1);
    } catch (err) {
      throw at(err, /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`);
    }
  }
  return out + '}';
}

function isSorted(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if (names[i - 1] > names[i]) return false;
  return true;
}

function at(err: unknown, segment: string): unknown {
  if (err instanceof ContractViolation) err.segments.push(segment);
  return err;
}

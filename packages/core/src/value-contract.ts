import { JobError } from './errors';
import type { TypeRegistry } from './type-registry';

/**
 * The serializer contract for records and state, checked in one walk: what a record or a
 * state value may hold, and how the values msgpack cannot carry as they are (-0,
 * instances of registered classes) are marked so that they arrive as they left. The
 * same walk runs between chained operators, so a record that could not cross tasks fails
 * there too: behaviour does not depend on chaining. README "Records, state and keys".
 */

/** An instance of a registered class, on its way to the wire: the class name and its own fields. */
export class TypedInstance {
  constructor(
    readonly name: string,
    readonly fields: Record<string, unknown>,
  ) {}
}

/** -0 on its way to the wire: msgpack writes it as the integer 0. */
export class NegativeZero {}
export const NEGATIVE_ZERO = new NegativeZero();

/** Deeper than this, a value is checked for a cycle (an honest tree this deep is refused too). */
const MAX_DEPTH = 1000;

/** Where and why a value breaks the contract; callers add which operator or state it came from. */
export class ContractViolation extends Error {
  /** Innermost first while the walk unwinds. */
  readonly segments: string[] = [];

  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(problem);
  }

  path(root: string): string {
    return root + [...this.segments].reverse().join('');
  }

  /** One line: `<where>: record.items[2].handler is a function; <fix>`. */
  toJobError(where: string, root: string): UnserializableValueError {
    const problem = this.problem.replace('{root}', root);
    return new UnserializableValueError(`${where}: ${this.path(root)} ${problem}; ${this.fix}`, this.path(root));
  }
}

export class UnserializableValueError extends JobError {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

class TooDeep extends Error {}

/**
 * Returns the value ready for msgpack: the value itself when it needs no marking (plain
 * data, the common case: no copy), otherwise a copy of the marked branches. Throws a
 * ContractViolation naming the first field that breaks the contract.
 */
export function prepareValue(value: unknown, types: TypeRegistry): unknown {
  if (isFlatPlainData(value)) return value;
  try {
    return walk(value, types, 0);
  } catch (err) {
    if (err instanceof TooDeep) throw explainTooDeep(value);
    throw err;
  }
}

/** A string, a boolean or a non-zero number: within the contract as it is (0 may be -0: the full walk decides). */
function isPlainScalar(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'boolean' || (type === 'number' && value !== 0);
}

/**
 * The common record, checked without a call per field: a plain scalar or a plain object
 * whose fields are plain scalars.
 */
function isFlatPlainData(value: unknown): boolean {
  if (typeof value !== 'object') return isPlainScalar(value);
  if (value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (!isPlainScalar((value as Record<string, unknown>)[key])) return false;
  return true;
}

/** Changed unless it is the same value (NaN is not equal to itself but needs no copy). */
function changed(after: unknown, before: unknown): boolean {
  return after !== before && before === before;
}

function walk(value: unknown, types: TypeRegistry, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return value;
    case 'number':
      return value === 0 && 1 / value < 0 ? NEGATIVE_ZERO : value;
    case 'symbol':
      throw new ContractViolation(`is a symbol (${String(value)})`, 'symbols cannot be serialized: use a string');
    case 'function':
      throw new ContractViolation(
        `is a function${value.name ? ` (${value.name})` : ''}`,
        'records and state hold data only: drop the field and keep the function in the operator',
      );
  }
  if (value === null) return value;
  if (depth > MAX_DEPTH) throw new TooDeep();
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) return walkObject(value as Record<string, unknown>, types, depth);
  if (proto === Array.prototype) return walkArray(value as unknown[], types, depth);
  if (proto === Map.prototype) return walkMap(value as Map<unknown, unknown>, types, depth);
  if (proto === Set.prototype) return walkSet(value as Set<unknown>, types, depth);
  if (proto === Date.prototype || proto === RegExp.prototype || proto === ArrayBuffer.prototype || ArrayBuffer.isView(value)) return value;
  const registered = types.forPrototype(proto as object);
  if (registered) return new TypedInstance(registered.name, walkFields(value as Record<string, unknown>, types, depth));
  throw unsupported(value as object);
}

function walkObject(object: Record<string, unknown>, types: TypeRegistry, depth: number): unknown {
  let out: Record<string, unknown> | undefined;
  let key: string | undefined;
  try {
    for (key in object) {
      const before = object[key];
      const after = walk(before, types, depth + 1);
      if (changed(after, before)) (out ??= { ...object })[key] = after;
    }
  } catch (err) {
    throw atSegment(err, propertySegment(key as string));
  }
  return out ?? object;
}

/** Own enumerable fields of a registered class instance, always copied (it becomes a TypedInstance). */
function walkFields(object: Record<string, unknown>, types: TypeRegistry, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let key = '';
  try {
    for (key of Object.keys(object)) out[key] = walk(object[key], types, depth + 1);
  } catch (err) {
    throw atSegment(err, propertySegment(key));
  }
  return out;
}

function walkArray(array: unknown[], types: TypeRegistry, depth: number): unknown {
  let out: unknown[] | undefined;
  let i = 0;
  try {
    for (; i < array.length; i++) {
      const before = array[i];
      // Plain scalars stay as they are: no walk for the elements of a snapshot's
      // [key, value] entries (a full 1M-key checkpoint walks 2M of them).
      if (isPlainScalar(before)) continue;
      const after = walk(before, types, depth + 1);
      if (changed(after, before)) (out ??= array.slice())[i] = after;
    }
  } catch (err) {
    throw atSegment(err, `[${i}]`);
  }
  return out ?? array;
}

function walkMap(map: Map<unknown, unknown>, types: TypeRegistry, depth: number): unknown {
  let marked = false;
  const entries: [unknown, unknown][] = [];
  let i = 0;
  let segment = '';
  try {
    for (const [k, v] of map) {
      segment = `.keys()[${i}]`;
      const key = walk(k, types, depth + 1);
      segment = `.get(${describeKey(k)})`;
      const val = walk(v, types, depth + 1);
      if (changed(key, k) || changed(val, v)) marked = true;
      entries.push([key, val]);
      i++;
    }
  } catch (err) {
    throw atSegment(err, segment);
  }
  return marked ? new Map(entries) : map;
}

function walkSet(set: Set<unknown>, types: TypeRegistry, depth: number): unknown {
  let marked = false;
  const items: unknown[] = [];
  let i = 0;
  try {
    for (const item of set) {
      const after = walk(item, types, depth + 1);
      if (changed(after, item)) marked = true;
      items.push(after);
      i++;
    }
  } catch (err) {
    throw atSegment(err, `.values()[${i}]`);
  }
  return marked ? new Set(items) : set;
}

function atSegment(err: unknown, segment: string): unknown {
  if (err instanceof ContractViolation) err.segments.push(segment);
  return err;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function propertySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function describeKey(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint') return String(key) + (typeof key === 'bigint' ? 'n' : '');
  return '…';
}

function unsupported(value: object): ContractViolation {
  if (value instanceof Error) {
    return new ContractViolation(`is an Error (${value.name}: ${value.message})`, 'send String(err) or { name: err.name, message: err.message } instead');
  }
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  const name = typeof ctor === 'function' && ctor.name ? ctor.name : '';
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    return new ContractViolation(`is a ${name || 'built-in object'}, which is not data`, 'send the data it holds instead');
  }
  if (name) {
    return new ContractViolation(`is an instance of class ${name}, which is not registered`, `call env.registerType(${name}) in the job function`);
  }
  return new ContractViolation('is an instance of an anonymous class, which cannot be registered by name', 'give the class a name and call env.registerType(TheClass) in the job function');
}

/** Slow path, only after the walk went too deep: find the cycle and name where it closes. */
function explainTooDeep(root: unknown): ContractViolation {
  const ancestors: unknown[] = [];
  const path: string[] = [];
  const visit = (value: unknown): ContractViolation | undefined => {
    if (typeof value !== 'object' || value === null) return undefined;
    const at = ancestors.indexOf(value);
    if (at >= 0) {
      const v = new ContractViolation(
        `refers back to ${'{root}' + path.slice(0, at).join('')} (a circular reference)`,
        'records and state must be trees: send an id instead of the reference',
      );
      v.segments.push(...[...path].reverse());
      return v;
    }
    if (ancestors.length > MAX_DEPTH) {
      const v = new ContractViolation(`is nested more than ${MAX_DEPTH} levels deep`, 'flatten the value');
      v.segments.push(...[...path].reverse());
      return v;
    }
    ancestors.push(value);
    try {
      for (const [segment, child] of children(value)) {
        path.push(segment);
        const found = visit(child);
        path.pop();
        if (found) return found;
      }
      return undefined;
    } finally {
      ancestors.pop();
    }
  };
  return visit(root) ?? new ContractViolation(`is nested more than ${MAX_DEPTH} levels deep`, 'flatten the value');
}

function children(value: object): [string, unknown][] {
  if (value instanceof Map) return [...value].flatMap(([k, v], i) => [[`.keys()[${i}]`, k], [`.get(${describeKey(k)})`, v]] as [string, unknown][]);
  if (value instanceof Set) return [...value].map((v, i) => [`.values()[${i}]`, v]);
  if (Array.isArray(value)) return value.map((v, i) => [`[${i}]`, v]);
  return Object.keys(value).map((k) => [propertySegment(k), (value as Record<string, unknown>)[k]]);
}

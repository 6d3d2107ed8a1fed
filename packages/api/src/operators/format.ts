import { inspect } from 'node:util';

/** A top-level primitive as text: strings as they are, numbers as numbers (NaN, Infinity, -0 kept). */
function formatPrimitive(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
      return String(value);
    default:
      return value === null ? 'null' : undefined;
  }
}

/**
 * What print() writes for a record, as a JavaScript user reads values: primitives as
 * above, other values as Node prints them (`{ word: 'a', count: 1 }`, `Map(1) { 'k' => 1 }`),
 * on one line.
 */
export function formatPrinted(value: unknown): string {
  const primitive = formatPrimitive(value);
  if (primitive !== undefined) return primitive;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  return inspect(value, { depth: 8, breakLength: Infinity, compact: true, maxArrayLength: 1000, maxStringLength: 10_000 });
}

/** One line of a text file per record: primitives as above, objects as JSON for other tools to read. */
export function formatRecord(value: unknown): string {
  return formatPrimitive(value) ?? JSON.stringify(value);
}

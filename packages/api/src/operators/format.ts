import { inspect } from 'node:util';

/**
 * One line of text per record, as a JavaScript user reads values: strings as they are,
 * numbers as numbers (NaN, Infinity and -0 included), other values as Node prints them
 * (`{ word: 'a', count: 1 }`, `Map(1) { 'k' => 1 }`), on one line.
 */
export function formatRecord(value: unknown): string {
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
      if (value === null) return 'null';
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
      return inspect(value, { depth: 8, breakLength: Infinity, compact: true, maxArrayLength: 1000, maxStringLength: 10_000 });
  }
}

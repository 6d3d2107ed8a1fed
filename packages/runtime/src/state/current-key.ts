import { keyGroupFor, keyToString, NO_TYPES, type TypeRegistry } from '@weir/core';
import type { TableKey } from './keyed-backend';

/**
 * The key a keyed backend reads and writes under: the key itself, its key group, and the
 * key its tables are indexed by. Shared by the backends so that they place every key alike.
 */
export class CurrentKey {
  value: unknown;
  group = 0;
  tableKey: TableKey = '';

  constructor(private readonly maxParallelism: number, private readonly types: TypeRegistry = NO_TYPES) {}

  /** Throws a ContractViolation for a key that cannot be a key (null, undefined, a function...). */
  set(key: unknown, keyGroup?: number): void {
    // A number is its own table key: with the producer's key group it needs no text or hash.
    if (keyGroup !== undefined && typeof key === 'number') {
      this.value = key;
      this.group = keyGroup;
      this.tableKey = key;
      return;
    }
    const text = keyToString(key, this.types); // a refused key leaves the current one as it was
    this.value = key;
    this.group = keyGroupFor(text, this.maxParallelism);
    // A number looks up faster than a string built for every record.
    this.tableKey = typeof key === 'number' ? key : text;
  }
}

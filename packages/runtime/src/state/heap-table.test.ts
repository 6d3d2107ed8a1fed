import { describe, expect, it } from 'vitest';
import { HeapTable, PAGE } from './heap-table';
import type { TableKey } from './keyed-backend';

/** Deterministic pseudo-random numbers. */
function random(seed: number) {
  let x = seed;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** A key's group, as the backend would give it: any fixed function of the key does here. */
const groupOf = (k: TableKey) => (typeof k === 'number' ? Math.abs(Math.trunc(k)) % 128 : k.length % 128);

/** Checks the table against a plain Map of the same writes. */
function agree(table: HeapTable, model: Map<TableKey, unknown>, keys: TableKey[]) {
  for (const k of keys) expect(table.get(groupOf(k), k)).toBe(model.get(k));
  expect(table.size).toBe(model.size);
}

describe('heap state table', () => {
  it('holds number keys from 0 in its dense region and every other key in its maps, agreeing with a plain map through writes, removes and group clears', () => {
    const next = random(7);
    const table = new HeapTable('value');
    const model = new Map<TableKey, unknown>();
    // Dense candidates in random order (so the region grows as keys fill it), and keys that never are.
    const keys: TableKey[] = [
      ...Array.from({ length: 20_000 }, (_, i) => i),
      -1, -4096, 0.5, 4095.5, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER, 1e300, -0.25,
      ...Array.from({ length: 500 }, (_, i) => `k${i}`),
    ];
    for (let i = 0; i < 200_000; i++) {
      const k = keys[Math.floor(next() * keys.length)];
      const kg = groupOf(k);
      if (next() < 0.85) {
        table.set(kg, k, i, true);
        model.set(k, i);
      } else {
        expect(table.delete(kg, k)).toBe(model.delete(k));
      }
    }
    agree(table, model, keys);
    expect(table.region).toBeGreaterThanOrEqual(20_000);
    expect(table.isDense(19_999)).toBe(true);
    for (const k of [-1, 0.5, 2 ** 31, 'k1']) expect(table.isDense(k)).toBe(false);
    // A full restore of one group replaces it: every key of that group goes, from both places.
    table.clearGroup(5);
    for (const k of keys) if (groupOf(k) === 5) model.delete(k);
    agree(table, model, keys);
  });

  it('keeps sparse number keys in its maps: the dense region stays within a few slots per key held', () => {
    const table = new HeapTable('value');
    for (let i = 0; i < 1000; i++) table.set(0, i * 100_003, i, true);
    expect(table.region).toBe(PAGE);
    for (let i = 0; i < 1000; i++) expect(table.get(0, i * 100_003)).toBe(i);
    // A subtask holding half the key groups may use twice the slots per key it holds.
    const half = new HeapTable('value', 0.5);
    for (let i = 0; i < 20_000; i++) half.set(0, i * 2, i, true);
    expect(half.region).toBe(65_536);
    expect(half.region).toBeLessThanOrEqual((4 / 0.5) * half.size);
  });

  it('does not grow while told not to (a capture is being read), and takes the keys it now covers out of its maps when it next grows', () => {
    const table = new HeapTable('value');
    for (let i = 0; i < PAGE; i++) table.set(0, i, i, true);
    for (let i = PAGE; i < 3 * PAGE; i++) table.set(1, i, i, false);
    expect(table.region).toBe(PAGE);
    expect(table.groups[1]?.size).toBe(2 * PAGE);
    table.set(1, 3 * PAGE, -1, true);
    expect(table.region).toBe(4 * PAGE);
    expect(table.groups[1]?.size).toBe(0);
    for (let i = PAGE; i < 3 * PAGE; i++) expect(table.get(1, i)).toBe(i);
    expect(table.get(1, 3 * PAGE)).toBe(-1);
    expect(table.size).toBe(3 * PAGE + 1);
  });
});

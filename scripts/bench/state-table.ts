// The heap backend's table for one state (packages/runtime/src/state/heap-table.ts) against
// the layout before it (a Map per key group), in one process: a read and a write per
// record, as the keyed sum of bench-throughput.ts does, for the number keys of one of two
// subtasks (half the key groups), in key order (the generator's i % keys) and in random
// order. Alternating rounds, so that a busy machine slows both alike. Prints CPU ns per
// record, best of --rounds (default 5). Run it bundled, as a TaskManager runs its code:
//   npx esbuild scripts/bench/state-table.ts --bundle --platform=node --outfile=.bench-state-table.cjs --external:lmdb --external:msgpackr-extract --external:esbuild && node .bench-state-table.cjs [--rounds N]
import { keyGroupFor, keyToString } from '@weir/core';
import { HeapTable } from '@weir/runtime/src/state/heap-table';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const MAX_PARALLELISM = 128;
const RECORDS = 5_000_000;

/** The keys subtask 0 of 2 holds (key groups 0-63), with their groups. */
function ownKeys(keys: number, order: 'key order' | 'random order'): { keys: Int32Array; groups: Uint16Array } {
  const own: number[] = [];
  const groups: number[] = [];
  for (let k = 0; k < keys; k++) {
    const kg = keyGroupFor(keyToString(k), MAX_PARALLELISM);
    if (kg < MAX_PARALLELISM / 2) {
      own.push(k);
      groups.push(kg);
    }
  }
  if (order === 'random order') {
    let x = 7;
    for (let i = own.length - 1; i > 0; i--) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const j = x % (i + 1);
      [own[i], own[j]] = [own[j], own[i]];
      [groups[i], groups[j]] = [groups[j], groups[i]];
    }
  }
  return { keys: Int32Array.from(own), groups: Uint16Array.from(groups) };
}

interface Layout {
  get(kg: number, k: number): unknown;
  set(kg: number, k: number, v: unknown): void;
}

function mapPerGroup(): Layout {
  const groups: (Map<number, unknown> | undefined)[] = [];
  return {
    get: (kg, k) => groups[kg]?.get(k),
    set: (kg, k, v) => void (groups[kg] ??= new Map()).set(k, v),
  };
}

function heapTable(): Layout {
  const table = new HeapTable('value', 0.5);
  return { get: (kg, k) => table.get(kg, k), set: (kg, k, v) => table.set(kg, k, v, true) };
}

/** CPU ns per record of RECORDS reads and writes, cycling through the keys as a generator does. */
function run(layout: Layout, own: { keys: Int32Array; groups: Uint16Array }): number {
  const { keys, groups } = own;
  for (let i = 0; i < keys.length; i++) layout.set(groups[i], keys[i], 0);
  const start = process.cpuUsage();
  let j = 0;
  for (let r = 0; r < RECORDS; r++) {
    const k = keys[j];
    const kg = groups[j];
    layout.set(kg, k, ((layout.get(kg, k) as number) ?? 0) + 1);
    if (++j === keys.length) j = 0;
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / RECORDS;
}

const rows: string[][] = [['keys (subtask 0 of 2)', 'order', 'Map per key group', 'HeapTable', 'ratio']];
for (const keys of [10_000, 1_000_000, 10_000_000]) {
  for (const order of ['key order', 'random order'] as const) {
    const own = ownKeys(keys, order);
    const best = { maps: Infinity, table: Infinity };
    for (let r = 0; r < rounds; r++) {
      best.maps = Math.min(best.maps, run(mapPerGroup(), own));
      best.table = Math.min(best.table, run(heapTable(), own));
    }
    rows.push([`${keys.toLocaleString('en')} (${own.keys.length.toLocaleString('en')})`, order, `${best.maps.toFixed(1)} ns`, `${best.table.toFixed(1)} ns`, `${(best.maps / best.table).toFixed(1)}x`]);
  }
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
console.log(`CPU ns per record (a read and a write), best of ${rounds} alternating rounds of ${RECORDS.toLocaleString('en')} records`);

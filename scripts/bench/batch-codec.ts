// Record batch encodings side by side, in one process: msgpack (records extension) and
// columns (packages/core/src/columnar-batch.ts), encode and decode, per record shape, in
// alternating rounds so that a busy machine slows both alike. Run it bundled, as a
// TaskManager runs its code:
//   npx esbuild scripts/bench/batch-codec.ts --bundle --platform=node --outfile=/tmp/batch-codec.cjs && node /tmp/batch-codec.cjs [--rounds N]
// Figures are CPU ns per record (process.cpuUsage), best of N rounds (default 7), and
// bytes per record on the wire.
import os from 'node:os';
import { Packr } from 'msgpackr';
import { decodeColumnar, encodeColumnar, RecordSerializer } from '@weir/core';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 7;
const BATCH = 512;
const BATCHES = 400;
const msgpack = new Packr({ useRecords: true, moreTypes: true });
const serializer = new RecordSerializer();

const shapes: Record<string, (i: number) => unknown> = {
  'bench-throughput {key, value}, 10k keys': (i) => ({ key: i % 10_000, value: 1 }),
  '{key, value}, 1M keys': (i) => ({ key: i % 1_000_000, value: 1 }),
  '{user, amount, ok}': (i) => ({ user: `user-${i % 1000}`, amount: i * 0.25, ok: i % 3 === 0 }),
  'nested (msgpack either way)': (i) => ({ user: `u${i % 100}`, at: { ms: i } }),
};

function cpuNs(fn: () => void, records: number): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / records;
}

let sink = 0;
const rows: string[][] = [['record', 'msgpack encode', 'columns encode', 'msgpack decode', 'columns decode', 'bytes msgpack / columns']];
for (const [name, make] of Object.entries(shapes)) {
  const batches = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: BATCH }, (_, i) => make(b * BATCH + i)));
  const n = BATCH * BATCHES;
  const packed = batches.map((batch) => msgpack.pack(batch));
  const columns = batches.map((batch) => encodeColumnar(batch));
  const columnar = columns.every((c) => c !== undefined);
  const best = [Infinity, Infinity, Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    best[0] = Math.min(best[0], cpuNs(() => { for (const b of batches) sink += msgpack.pack(b).length; }, n));
    best[1] = Math.min(best[1], cpuNs(() => { for (const b of batches) sink += serializer.encodeBatch(b).length; }, n));
    best[2] = Math.min(best[2], cpuNs(() => { for (const d of packed) sink += (msgpack.unpack(d) as unknown[]).length; }, n));
    if (columnar) best[3] = Math.min(best[3], cpuNs(() => { for (const d of columns) sink += decodeColumnar(d as Buffer).length; }, n));
  }
  const bytes = (list: (Buffer | undefined)[]) => (list.reduce((s, d) => s + (d?.length ?? 0), 0) / n).toFixed(1);
  rows.push([
    name, ...best.map((v, i) => (i === 3 && !columnar ? 'n/a' : `${v.toFixed(1)} ns`)),
    `${bytes(packed)} / ${columnar ? bytes(columns) : 'n/a'}`,
  ]);
}
if (sink < 0) console.log(sink);
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  '));
console.log(`"columns encode" is RecordSerializer.encodeBatch: columns when the batch fits them, msgpack otherwise`);
console.log(`best of ${rounds} rounds, ${BATCH * BATCHES} records per round; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

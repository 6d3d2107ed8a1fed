// Cost of the serializer contract per record, in one process: the check between chained
// operators (prepare), a batch's encode with and without it, decode, and key text + hash.
// Run it bundled, as a TaskManager runs its code (vite-node adds a cost to every call
// between modules that the bundle does not have):
//   npx esbuild scripts/bench/serializer.ts --bundle --platform=node --outfile=/tmp/serializer.cjs && node /tmp/serializer.cjs [--rounds N]
// Figures are CPU ns per record (process.cpuUsage, so time waiting for a core on a busy
// machine is not counted), best of N rounds (default 7); still noisy on a shared machine.
import { hashString, keyToString, RecordSerializer, TypeRegistry } from '@weir/core';

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 7;
const BATCH = 512;
const BATCHES = 400;

const types = new TypeRegistry();
types.register(Point);
const serializer = new RecordSerializer(types);

const shapes: Record<string, (i: number) => unknown> = {
  'bench-throughput {key, value}': (i) => ({ key: i % 10_000, value: 1 }),
  'string word': (i) => `word-${i % 1000}`,
  'nested plain record': (i) => ({ user: `u${i % 100}`, amount: i * 0.5, tags: ['a', 'b'], at: { ms: i, zone: 'utc' } }),
  'with Date, Set, registered class': (i) => ({ when: new Date(i), tags: new Set(['a']), p: new Point(i, 1) }),
};

function best(fn: () => void, records: number): number {
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    fn();
    const used = process.cpuUsage(start);
    min = Math.min(min, ((used.user + used.system) * 1000) / records);
  }
  return min;
}

const identity = (v: unknown): unknown => v;
const rows: string[][] = [['record', 'loop alone', 'check (chained hop)', 'encode, no check (old path)', 'check + encode (new path)', 'decode']];
for (const [name, make] of Object.entries(shapes)) {
  const batches = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: BATCH }, (_, i) => make(b * BATCH + i)));
  const n = BATCH * BATCHES;
  const encoded = batches.map((batch) => serializer.encodeBatch(batch.map((r) => serializer.prepare(r))));
  let sink = 0;
  const loop = best(() => {
    for (const batch of batches) for (const r of batch) sink += identity(r) === r ? 1 : 0;
  }, n);
  const check = best(() => {
    for (const batch of batches) for (const r of batch) sink += serializer.prepare(r) === r ? 1 : 0;
  }, n);
  const encodeOnly = best(() => {
    for (const batch of batches) sink += serializer.encodeBatch(batch).length;
  }, n);
  const checkAndEncode = best(() => {
    for (const batch of batches) {
      const prepared = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) prepared[i] = serializer.prepare(batch[i]);
      sink += serializer.encodeBatch(prepared).length;
    }
  }, n);
  const decode = best(() => {
    for (const data of encoded) sink += serializer.decodeBatch(data).length;
  }, n);
  if (sink < 0) console.log(sink);
  rows.push([name, loop, check, encodeOnly, checkAndEncode, decode].map((v) => (typeof v === 'number' ? `${v.toFixed(1)} ns` : v)));
}

const keys = Array.from({ length: 100_000 }, (_, i) => i % 10_000);
const stringKeys = keys.map((k) => `user-${k}`);
let h = 0;
const numberKey = best(() => {
  for (const k of keys) h ^= hashString(keyToString(k));
}, keys.length);
const stringKey = best(() => {
  for (const k of stringKeys) h ^= hashString(keyToString(k));
}, keys.length);
const objectKey = best(() => {
  for (const k of keys) h ^= hashString(keyToString({ tenant: 't', id: k }));
}, keys.length);
const sumRecords = keys.map((k) => ({ key: k, sum: 1 }));
const valueRecords = keys.map((k) => ({ key: k, value: 1 }));
let checks = 0;
const perRecordLoop = best(() => {
  for (let i = 0; i < keys.length; i++) {
    checks += identity(valueRecords[i]) === valueRecords[i] ? 1 : 0;
    checks += identity(i) === i ? 1 : 0;
    checks += identity(sumRecords[i]) === sumRecords[i] ? 1 : 0;
  }
}, keys.length);
// What the contract adds per record of bench-throughput.ts: the source's output is checked
// once before batching, the running sum is checked as a state value, and the sum's output
// is checked on its way to the chained sink.
const perRecord = best(() => {
  for (let i = 0; i < keys.length; i++) {
    checks += serializer.prepare(valueRecords[i]) === valueRecords[i] ? 1 : 0;
    checks += serializer.prepare(i) === i ? 1 : 0;
    checks += serializer.prepare(sumRecords[i]) === sumRecords[i] ? 1 : 0;
  }
}, keys.length);
if (h === 0.5 || checks < 0) console.log(h);

const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  '));
console.log(`\nkey text + hash: number ${numberKey.toFixed(1)} ns, string ${stringKey.toFixed(1)} ns, object {tenant, id} ${objectKey.toFixed(1)} ns`);
console.log(`checks the contract adds per record of bench-throughput.ts: ${perRecord.toFixed(1)} ns (the same loop calling an identity function: ${perRecordLoop.toFixed(1)} ns)`);
console.log(`best of ${rounds} rounds, ${BATCH * BATCHES} records per round; shared machine: expect noise`);

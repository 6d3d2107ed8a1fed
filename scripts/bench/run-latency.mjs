// What `weir run` costs before it reaches the JobManager (type check, bundle, plan), with
// and without the type check, and where a print() line takes on its way to an attached
// `weir run`. Prints figures; asserts nothing.
//
//   node scripts/bench/run-latency.mjs [--rounds 5]
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const weir = path.join(root, 'packages/cli/dist/weir.cjs');
const example = path.join(root, 'packages/examples/src/checkpoint-example.ts');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Nothing listens on the port: `weir run` does everything up to the submission, then fails.
const unreachable = `127.0.0.1:${await freePort()}`;
function timeRun(extra) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [weir, 'run', example, '--jobmanager', unreachable, ...extra], { encoding: 'utf8' });
  if (!/cannot reach the JobManager/.test(r.stderr)) throw new Error(`unexpected: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
// The type check remembers jobs that passed (packages/cli/src/typecheck.ts): cold is a first run.
const cacheDir = path.join(os.tmpdir(), `weir-typecheck-${process.getuid?.() ?? 'user'}`);
const cold = [];
const warm = [];
const without = [];
for (let i = 0; i < rounds; i++) {
  rmSync(cacheDir, { recursive: true, force: true });
  cold.push(timeRun([]));
  warm.push(timeRun([]));
  without.push(timeRun(['--no-typecheck']));
}
const m = (xs) => median(xs).toFixed(0);
console.log(`weir run up to submission, ${rounds} rounds, median: ${m(without)} ms without the type check, ${m(cold)} ms with a first check, ${m(warm)} ms with the job unchanged since it passed`);

// Print latency: a line written to the socket until the attached weir run shows it.
const port = await freePort();
const rest = await freePort();
const cluster = spawn(process.execPath, [weir, 'cluster', '--taskmanagers', '1', '--port', String(port), '-D', `rest.port=${rest}`, '--log-dir', path.join(root, '.weir/bench-logs')], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve) => cluster.stdout.on('data', (d) => String(d).includes('stops the cluster') && resolve()));
let socket;
const server = net.createServer((s) => (socket = s));
const listened = await new Promise((resolve) => server.once('error', () => resolve(false)).listen(9999, '127.0.0.1', () => resolve(true)));
if (!listened) {
  console.error('port 9999 (the example\'s) is taken: run this again when it is free');
  cluster.kill('SIGTERM');
  process.exit(1);
}
const run = spawn(process.execPath, [weir, 'run', example, '--jobmanager', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
const arrivals = new Map();
let partial = '';
run.stdout.on('data', (d) => {
  const parts = (partial + d).split('\n');
  partial = parts.pop();
  for (const p of parts) arrivals.set(p, process.hrtime.bigint());
});
for (let i = 0; i < 200 && !socket; i++) await new Promise((r) => setTimeout(r, 50));
const latencies = [];
for (let i = 1; i <= 50; i++) {
  const sent = process.hrtime.bigint();
  socket.write(`${i}\n`);
  for (let j = 0; j < 400 && !arrivals.has(String(i)); j++) await new Promise((r) => setTimeout(r, 1));
  latencies.push(Number(arrivals.get(String(i)) - sent) / 1e6);
  await new Promise((r) => setTimeout(r, 20));
}
const sorted = [...latencies].sort((a, b) => a - b);
console.log(`print latency socket -> attached weir run, 50 lines: median ${median(latencies).toFixed(1)} ms, p90 ${sorted[44].toFixed(1)} ms, max ${sorted[49].toFixed(1)} ms`);
run.kill('SIGKILL');
socket.destroy();
server.close();
cluster.kill('SIGTERM');
await new Promise((r) => cluster.on('exit', r));

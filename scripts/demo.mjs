// `npm run demo`: starts a local cluster (a JobManager and 2 TaskManagers) on free ports,
// runs the keyed word count across both, shows what it prints, and stops the cluster.
import { spawn } from 'node:child_process';
import net from 'node:net';

const weir = new URL('../packages/cli/dist/weir.cjs', import.meta.url).pathname;
const job = new URL('../packages/examples/src/word-count.ts', import.meta.url).pathname;

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const port = await freePort();
const restPort = await freePort();

const cluster = spawn(process.execPath, [weir, 'cluster', '--taskmanagers', '2', '--port', String(port), '-D', `rest.port=${restPort}`], { stdio: ['ignore', 'pipe', 'inherit'] });
let ready;
const up = new Promise((resolve) => (ready = resolve));
cluster.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (String(chunk).includes('Weir cluster is up')) ready();
});
const stop = () => cluster.exitCode === null && cluster.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// The cluster says in one line why it could not start (a port taken, and by which key).
const started = await Promise.race([up.then(() => true), new Promise((resolve) => cluster.on('exit', () => resolve(false)))]);
if (!started) process.exit(1);

console.log(`\n$ weir run packages/examples/src/word-count.ts -p 2 --jobmanager localhost:${port}`);
const run = spawn(process.execPath, [weir, 'run', job, '-p', '2', '--jobmanager', `localhost:${port}`], { stdio: 'inherit' });
const code = await new Promise((resolve) => run.on('exit', resolve));
stop();
await new Promise((resolve) => (cluster.exitCode === null ? cluster.on('exit', resolve) : resolve()));
console.log(code === 0 ? '\nThe word count ran on 2 TaskManagers: each "n>" prefix is the subtask that printed the line.' : '\nThe job failed.');
process.exit(code ?? 1);

// Shared helpers of the Weir benchmarks (scripts/bench/*.mjs): process bookkeeping (every
// process started here is stopped by its pid, also on errors and Ctrl-C), VmRSS / CPU
// sampling, a Weir cluster of real processes on loopback, a gRPC ClientService stub, and
// the sink-file readers. Node.js >= 20; @grpc/grpc-js and @grpc/proto-loader come from the
// repository's node_modules.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createClusterSampler } from './proc.mjs';
import { parseArgv } from './args.mjs';

export { parseArgv };
import { countAt, readCounts } from './sink-files.mjs';

export { countAt, readCounts };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// WEIR_BENCH_BUNDLE runs the same harness against another build (e.g. an older commit's).
export const WEIR = process.env.WEIR_BENCH_BUNDLE ? path.resolve(process.env.WEIR_BENCH_BUNDLE) : path.join(ROOT, 'packages/cli/dist/weir.cjs');
export const EXAMPLES = path.join(ROOT, 'packages/examples/src');
const require = createRequire(path.join(ROOT, 'package.json'));
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const median = (xs) => {
  xs = xs.filter((x) => x != null);
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const max = (xs) => { xs = xs.filter((x) => x != null); return xs.length ? Math.max(...xs) : null; };
export const round = (x, d = 0) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

export function makeLogger(tag) {
  return (...a) => console.error(`[${tag} ${new Date().toISOString().slice(11, 23)}]`, ...a);
}


// ---------------------------------------------------------------- processes
export const children = new Map(); // pid -> {name, proc, exitCode, cluster}
let tmpRoot = null;
let keepTmp = false;

export function makeTmpRoot(prefix, keep) {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  keepTmp = !!keep;
  return tmpRoot;
}

export function killAllSync() {
  for (const [pid] of children) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  children.clear();
}

export function cleanupTmp() {
  if (tmpRoot && !keepTmp) {
    try { fs.rmSync(tmpRoot, { recursive: true, force: true }); } catch { /* ignore */ }
  }
}

let handlersInstalled = false;
export function installExitHandlers(log) {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => { killAllSync(); cleanupTmp(); });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { log(`got ${sig}, stopping everything`); killAllSync(); cleanupTmp(); process.exit(130); });
  }
}

export function spawnTracked(name, cmd, args, { logFile, cluster = false, cwd, env } = {}) {
  const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const proc = spawn(cmd, args, { stdio: ['ignore', out, out], cwd, env: env ?? process.env });
  if (logFile) fs.closeSync(out);
  const rec = { name, proc, exitCode: null, cluster };
  proc.on('exit', (code, sig) => { rec.exitCode = code ?? sig ?? 'exited'; });
  children.set(proc.pid, rec);
  return proc.pid;
}

export async function stopProc(pid, graceMs = 3000) {
  const c = children.get(pid);
  if (!c) return;
  if (c.exitCode === null) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
  const t0 = Date.now();
  while (c.exitCode === null && Date.now() - t0 < graceMs) await sleep(50);
  if (c.exitCode === null) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  while (c.exitCode === null && Date.now() - t0 < graceMs + 2000) await sleep(20);
  children.delete(pid);
}

export function killNow(pid) {
  process.kill(pid, 'SIGKILL');
}

// ---------------------------------------------------------------- RSS / CPU sampling
const sampler = createClusterSampler(children);
export const rss = sampler.rss;
export const sampleRss = sampler.sample;
let load0 = null;
export function startSampling() {
  load0 = os.loadavg()[0];
  sampler.start();
}
/** machine fields as in the Flink harness. */
export function machineReport() {
  const shares = sampler.cpuShares();
  return {
    cpus: os.cpus().length,
    mem_gib: round(os.totalmem() / 2 ** 30, 1),
    loadavg_1m_start: round(load0, 2),
    loadavg_1m_end: round(os.loadavg()[0], 2),
    other_cpu_share: round(shares.other, 3),
    cluster_cpu_share: round(shares.cluster, 3),
  };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

export function weirVersion() {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/cli/package.json'), 'utf8')).version;
  } catch {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  }
}

export function ensureBuilt(log, build = true) {
  if (build) {
    log('building Weir (npm run build)');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
  }
  if (!fs.existsSync(WEIR)) throw new Error(`${WEIR} is missing: run npm run build`);
}

// ---------------------------------------------------------------- gRPC client
let clientCtor = null;
function ClientService() {
  if (!clientCtor) {
    const def = protoLoader.loadSync(['weir/v1/client.proto'], {
      includeDirs: [path.join(ROOT, 'proto')], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
    });
    clientCtor = grpc.loadPackageDefinition(def).weir.v1.ClientService;
  }
  return clientCtor;
}

/** security: a `weir security init` directory; the client then speaks TLS with its client certificate and token. */
export class Client {
  constructor(address, security) {
    this.metadata = new grpc.Metadata();
    if (!security) {
      this.c = new (ClientService())(address, grpc.credentials.createInsecure());
      return;
    }
    const read = (f) => fs.readFileSync(path.join(security, f));
    const creds = grpc.credentials.createSsl(read('ca.pem'), read('client-key.pem'), read('client.pem'));
    this.c = new (ClientService())(address, creds, { 'grpc.ssl_target_name_override': 'localhost' });
    this.metadata.set('authorization', `Bearer ${read('token').toString().trim()}`);
  }
  call(method, req = {}, deadlineMs = 3000) {
    return new Promise((resolve, reject) => {
      this.c[method](req, this.metadata, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }
  close() { this.c.close(); }
}

// ---------------------------------------------------------------- cluster
/**
 * A Weir cluster of real processes: `weir jobmanager` and `weir taskmanager` from the built
 * bundle, all on 127.0.0.1. config: extra -D keys for every process.
 */
export class WeirCluster {
  constructor(root, name, numTms, config = {}, { log = () => {}, tmNodeArgs = [], security, slots = 1 } = {}) {
    this.slots = slots;
    this.name = name;
    // A `weir security init` directory: processes run with its cluster.yaml, clients with client.yaml.
    this.security = security;
    this.numTms = numTms;
    this.dir = path.join(root, name);
    this.config = config;
    this.log = log;
    this.tmNodeArgs = tmNodeArgs;
    this.tmPids = new Set();
    this.jmPid = null;
    this.nTm = 0;
  }

  defines(extra = {}) {
    return Object.entries({ ...this.base, ...this.config, ...extra }).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  }

  async configure() {
    for (const d of ['logs', 'checkpoints', 'jobmanager', 'out']) fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    this.port = await freePort();
    this.restPort = await freePort();
    this.address = `127.0.0.1:${this.port}`;
    this.base = {
      'heartbeat.interval': '1000',
      'heartbeat.timeout': '5000',
      'state.checkpoints.dir': path.join(this.dir, 'checkpoints'),
      'jobmanager.store.dir': path.join(this.dir, 'jobmanager'),
      'log.level': 'warn',
    };
    this.client = new Client(this.address, this.security);
  }

  /** --config for the processes and for the CLI when the cluster is secured. */
  configArgs(which) {
    return this.security ? ['--config', path.join(this.security, `${which}.yaml`)] : [];
  }

  startJm() {
    this.jmPid = spawnTracked(`${this.name}/jobmanager`, process.execPath, [WEIR, 'jobmanager', ...this.configArgs('cluster'), ...this.defines({
      'jobmanager.rpc.address': '127.0.0.1', 'jobmanager.rpc.port': this.port, 'jobmanager.bind-host': '127.0.0.1',
      'rest.port': this.restPort, 'rest.bind-address': '127.0.0.1',
    })], { logFile: path.join(this.dir, 'logs', 'jobmanager.log'), cluster: true, cwd: this.dir });
  }

  startTm(nodeArgs = this.tmNodeArgs) {
    const n = this.nTm++;
    const pid = spawnTracked(`${this.name}/tm-${n}`, process.execPath, [...nodeArgs, WEIR, 'taskmanager', '--jobmanager', this.address, '--slots', String(this.slots), ...this.configArgs('cluster'),
      ...this.defines({ 'taskmanager.host': '127.0.0.1', 'taskmanager.bind-host': '127.0.0.1' })],
    { logFile: path.join(this.dir, 'logs', `taskmanager-${n}.log`), cluster: true, cwd: this.dir });
    this.tmPids.add(pid);
    return pid;
  }

  async taskmanagers() {
    return (await this.client.call('ListTaskManagers', {})).taskmanagers ?? [];
  }

  async waitTms(n, timeoutMs = 60000) {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      try {
        const tms = await this.taskmanagers();
        if (tms.length >= n) return tms;
      } catch { /* JM not up yet */ }
      const dead = [...children.entries()].find(([pid, c]) => (pid === this.jmPid || this.tmPids.has(pid)) && c.exitCode !== null && c.exitCode !== 'SIGKILL');
      if (dead) throw new Error(`${dead[1].name} exited (${dead[1].exitCode}); see ${path.join(this.dir, 'logs')}`);
      await sleep(20);
    }
    throw new Error(`${n} TaskManagers did not register within ${timeoutMs} ms`);
  }

  /** Spawns JM + TMs at once; ms from spawn to ListTaskManagers returning numTms. */
  async start() {
    await this.configure();
    this.log(`${this.name}: starting 1 JobManager + ${this.numTms} TaskManagers (gRPC ${this.port})`);
    const t0 = performance.now();
    this.startJm();
    for (let i = 0; i < this.numTms; i++) this.startTm();
    await this.waitTms(this.numTms);
    const ms = performance.now() - t0;
    this.log(`${this.name}: ready in ${Math.round(ms)} ms`);
    return ms;
  }

  /** weir run JOB --detached -p P -- args; returns the job id. */
  async submit(jobFile, jobArgs, parallelism = 2) {
    const r = spawnSync(process.execPath, [WEIR, 'run', jobFile, '--detached', '-p', String(parallelism), '--jobmanager', this.address, ...this.configArgs('client'), '--', ...jobArgs],
      { cwd: this.dir, encoding: 'utf8', timeout: 120000 });
    const id = /JobID ([0-9a-f]{32})/.exec(r.stdout ?? '')?.[1];
    if (r.status !== 0 || !id) throw new Error(`weir run ${path.basename(jobFile)} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
    this.log(`submitted ${path.basename(jobFile)} ${jobArgs.join(' ')} -> ${id}`);
    return id;
  }

  getJob(jobId) { return this.client.call('GetJob', { job_id: jobId }); }
  checkpoints(jobId) { return this.client.call('GetCheckpoints', { job_id: jobId }); }

  async waitRunning(jobId, timeoutMs = 60000) {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const j = await this.getJob(jobId);
      const subs = j.vertices.flatMap((v) => v.subtasks);
      if (j.summary.state === 'RUNNING' && subs.length && subs.every((s) => s.state === 'RUNNING')) return j;
      if (['FAILED', 'CANCELED', 'FINISHED'].includes(j.summary.state)) throw new Error(`job ${jobId} is ${j.summary.state}: ${j.failure_cause}`);
      await sleep(50);
    }
    throw new Error(`job ${jobId} not RUNNING within ${timeoutMs} ms`);
  }

  async cancel(jobId) {
    try { await this.client.call('CancelJob', { job_id: jobId }, 10000); } catch (e) { this.log(`cancel ${jobId}: ${e.message}`); return; }
    const t0 = Date.now();
    while (Date.now() - t0 < 30000) {
      const j = await this.getJob(jobId);
      if (['CANCELED', 'FAILED', 'FINISHED'].includes(j.summary.state)) return;
      await sleep(100);
    }
    this.log(`job ${jobId} did not reach CANCELED within 30 s`);
  }

  async stop() {
    this.log(`${this.name}: stopping`);
    try { this.client?.close(); } catch { /* ignore */ }
    const pids = [...this.tmPids, this.jmPid].filter((p) => p != null);
    await Promise.all(pids.map((p) => stopProc(p)));
    this.tmPids.clear();
  }
}

// ---------------------------------------------------------------- throughput from the sink's counts


/** records/s through the sink over windowS after warmupS (sink clock), as the Flink harness. */
export async function measureThroughput(cluster, jobId, { warmupS, windowS, statsDir, log }) {
  await cluster.waitRunning(jobId);
  const sumIn = async () => {
    const j = await cluster.getJob(jobId);
    const v = j.vertices.find((x) => /sum/i.test(x.name)) ?? j.vertices[j.vertices.length - 1];
    return { v: v.subtasks.reduce((a, s) => a + Number(s.records_in || 0), 0), t: performance.now() };
  };
  log(`warm-up ${warmupS} s`);
  await sleep(warmupS * 1000);
  const t0 = Date.now();
  const r0 = await sumIn().catch(() => null);
  await sleep(windowS * 1000);
  const r1 = await sumIn().catch(() => null);
  await sleep(400); // every subtask has reported past the window end
  const t1 = t0 + windowS * 1000;
  const series = readCounts(statsDir);
  if (!series.length) throw new Error(`no sink count files in ${statsDir}`);
  const rps = ((countAt(series, t1) - countAt(series, t0)) / (t1 - t0)) * 1000;
  const perSecond = [];
  for (let t = t0; t + 1000 <= t1; t += 1000) perSecond.push(countAt(series, t + 1000) - countAt(series, t));
  const metricRps = r0 && r1 && r1.v > r0.v ? (r1.v - r0.v) / ((r1.t - r0.t) / 1000) : null;
  log(`throughput ${Math.round(rps)} records/s over ${windowS} s (records_in metric cross-check ${Math.round(metricRps ?? NaN)})`);
  return { rps, windowS, minIntervalRps: Math.min(...perSecond), maxIntervalRps: Math.max(...perSecond), metricRps, t0, t1 };
}

/** Completed checkpoints triggered at or after sinceMs: end_to_end_duration_ms stats. */
export async function checkpointStats(cluster, jobId, sinceMs) {
  const c = await cluster.checkpoints(jobId);
  const done = (c.history ?? []).filter((h) => h.status === 'COMPLETED' && h.trigger_timestamp >= sinceMs).sort((x, y) => x.id - y.id);
  const durations = done.map((h) => h.end_to_end_duration_ms);
  const last = done[done.length - 1];
  return {
    count: durations.length,
    failed_total: c.failed ?? null,
    duration_ms_median: median(durations),
    duration_ms_max: max(durations),
    duration_ms_min: durations.length ? Math.min(...durations) : null,
    state_size_bytes_last: last ? last.state_size : null,
    max_alignment_ms_max: max(done.map((h) => h.max_alignment_ms)),
    durations_ms: durations,
  };
}

export async function waitCheckpoints(cluster, jobId, n, timeoutMs = 60000) {
  const t0 = Date.now();
  const base = (await cluster.checkpoints(jobId)).completed ?? 0;
  while (Date.now() - t0 < timeoutMs) {
    const c = await cluster.checkpoints(jobId);
    if ((c.completed ?? 0) >= base + n) return c;
    await sleep(100);
  }
  throw new Error(`no ${n} completed checkpoints within ${timeoutMs} ms`);
}

/** TaskManager id -> pid, from ListTaskManagers (falls back to the pid inside the id). */
export async function tmPidOf(cluster, tmId) {
  const tms = await cluster.taskmanagers();
  const t = tms.find((x) => x.id === tmId);
  if (t?.pid) return t.pid;
  const m = /^tm-.*-(\d+)-[0-9a-f]+$/.exec(tmId);
  return m ? Number(m[1]) : null;
}

/** Prints rows (arrays of cells) as a padded text table, then the result as JSON (and to --out). */
export function emitResult(rows, result, out) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  process.stdout.write('\n' + rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n\n');
  if (out) fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** Runs a benchmark's main and always stops what it started, on success and on error. */
export function runBenchmark(main, { log, keepTmp }) {
  main().then(() => { killAllSync(); cleanupTmp(); process.exit(0); }, (e) => {
    log(`error: ${e.stack ?? e}`);
    killAllSync();
    if (!keepTmp) cleanupTmp();
    process.exit(1);
  });
}

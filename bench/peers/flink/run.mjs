#!/usr/bin/env node
// Flink side of the Weir-vs-Flink benchmark.
//
// Builds the Maven project in this folder, starts standalone Flink clusters (one
// JobManager JVM + N TaskManager JVMs on 127.0.0.1, from the jars in target/lib),
// submits the jobs in dev.weir.bench through the REST API and measures:
//   - time from spawning the JVMs to a cluster ready for jobs (all TMs registered)
//   - throughput (records/s) of ThroughputJob, checkpointing off and every 1 s
//   - checkpoint duration (median, worst) of ThroughputJob with 1,000,000 keys
//   - recovery after kill -9 of a TaskManager that runs tasks, with a spare TM:
//     kill -> all tasks RUNNING again, kill -> first output of the restarted job
//   - peak RSS (sum of VmRSS over the JM + TM pids)
//   - scaling curves (scripts/bench/lib/scaling.mjs): throughput against the key count and
//     the parallelism, on TaskManagers of --scaling-tm-process-mb each
// Progress goes to stderr; the last line on stdout is one JSON object.
// Node.js >= 20, built-ins only. Every process it starts is stopped by pid on exit.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { orUsageExit, parseArgv, phaseSet } from '../../../scripts/bench/lib/args.mjs';
import { createClusterSampler } from '../../../scripts/bench/lib/proc.mjs';
import { countAt, firstSinkLineAfter, readCounts } from '../../../scripts/bench/lib/sink-files.mjs';
import { SCALING_USAGE, intervalMs, scalingOptions, scalingPhase, scalingSummary, waitFirstPass } from '../../../scripts/bench/lib/scaling.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LIB = path.join(HERE, 'target', 'lib');
const JOB_JAR = path.join(HERE, 'target', 'weir-flink-peer-0.1.0-jobs.jar');

// ---------------------------------------------------------------- options
const USAGE = `usage: node run.mjs [options]
  --quick                 short run (warm-up 5 s, windows 10 s, 1 recovery)
  --warmup-s N            warm-up before each measuring window (default 10, quick 5)
  --window-s N            throughput measuring window (default 30, quick 10)
  --ckpt-window-s N       window for the 1M-key checkpoint job (default 30, quick 10)
  --recovery-runs N       kill -9 repetitions (default 3, quick 1)
  --keys N                keys for the throughput jobs (default 10000)
  --ckpt-keys N           keys for the checkpoint-duration job (default 1000000)
  --recovery-rate N       records/s per source subtask in the recovery job (default 2000)
  --parallelism N         job parallelism (default 2)
  --tm-process-mb N       taskmanager.memory.process.size (default 1536)
  --jm-process-mb N       jobmanager.memory.process.size (default 1024)
  --restart-delay-ms N    fixed-delay restart delay (default 500)
  --only LIST             comma list of phases: throughput,checkpoint,recovery,scaling,state
                          (state: StateJob on RocksDB with incremental checkpoints; not in the default list)
  --state-keys LIST       key counts of the state phase (default 1000000,10000000)
  --state-rate N          steady records/s over both source subtasks in the state phase (default 20000)
  --state-checkpoints N   completed checkpoints in each state window (default 10)
  --state-managed-mb N    taskmanager.memory.managed.size for RocksDB (default 512)
${SCALING_USAGE}
  --scaling-tm-process-mb N   taskmanager.memory.process.size of the scaling clusters (default 3072:
                          about 2 GB of task heap, room for 5M keys of heap state per TaskManager)
  --no-build              do not run Maven
  --keep-tmp              keep the temp dir (configs, logs, sink output)
  --out FILE              also write the JSON to FILE`;

function parseArgs(argv) {
  const o = parseArgv(argv, ['quick', 'no-build', 'keep-tmp'], USAGE);
  const quick = !!o.quick;
  const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
  return {
    quick,
    warmupS: num('warmup-s', quick ? 5 : 10),
    windowS: num('window-s', quick ? 10 : 30),
    ckptWindowS: num('ckpt-window-s', quick ? 10 : 30),
    recoveryRuns: num('recovery-runs', quick ? 1 : 3),
    keys: num('keys', 10000),
    ckptKeys: num('ckpt-keys', 1000000),
    recoveryRate: num('recovery-rate', 2000),
    parallelism: num('parallelism', 2),
    tmMb: num('tm-process-mb', 1536),
    jmMb: num('jm-process-mb', 1024),
    restartDelayMs: num('restart-delay-ms', 500),
    only: phaseSet(o.only ?? 'throughput,checkpoint,recovery,scaling', ['throughput', 'checkpoint', 'recovery', 'scaling', 'state']),
    scaling: scalingOptions(o),
    scalingTmMb: num('scaling-tm-process-mb', 3072),
    stateKeys: String(o['state-keys'] ?? '1000000,10000000').split(',').map(Number),
    stateRate: num('state-rate', 20000),
    stateCheckpoints: num('state-checkpoints', 10),
    stateManagedMb: num('state-managed-mb', 512),
    build: !o['no-build'],
    keepTmp: !!o['keep-tmp'],
    out: o.out,
  };
}

const opts = orUsageExit(() => parseArgs(process.argv.slice(2)), 'run.mjs');
const log = (...a) => console.error(`[flink-bench ${new Date().toISOString().slice(11, 23)}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 0) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

// ---------------------------------------------------------------- process bookkeeping
const children = new Map(); // pid -> {name, proc}
let tmpRoot = null;

function killAllSync() {
  for (const [pid] of children) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
}

async function stopProc(pid, graceMs = 3000) {
  const c = children.get(pid);
  if (!c) return;
  try { process.kill(pid, 'SIGTERM'); } catch { children.delete(pid); return; }
  const t0 = Date.now();
  while (c.exitCode === null && Date.now() - t0 < graceMs) await sleep(50);
  if (c.exitCode === null) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  while (c.exitCode === null && Date.now() - t0 < graceMs + 2000) await sleep(20);
  children.delete(pid);
}

function cleanupTmp() {
  if (tmpRoot && !opts.keepTmp) {
    try { fs.rmSync(tmpRoot, { recursive: true, force: true }); } catch { /* ignore */ }
  }
}

process.on('exit', () => { killAllSync(); cleanupTmp(); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { log(`got ${sig}, stopping everything`); killAllSync(); cleanupTmp(); process.exit(130); });
}

// ---------------------------------------------------------------- RSS sampling
// Peak RSS and the cluster's share of the CPU, to tell how much other work competed.
const sampler = createClusterSampler(children);
const rss = sampler.rss;

// ---------------------------------------------------------------- helpers
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function build() {
  if (!opts.build) return;
  log('building with Maven (offline first)');
  let r = spawnSync('mvn', ['-q', '-o', 'package'], { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    log('offline build failed, building online (downloads from Maven Central into ~/.m2)');
    r = spawnSync('mvn', ['-q', 'package'], { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mvn package failed:\n${r.stdout}\n${r.stderr}`);
  }
  if (!fs.existsSync(JOB_JAR) || !fs.existsSync(LIB)) throw new Error('build did not produce the job jar / target/lib');
}

function javaVersion() {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const m = /version "([^"]+)"/.exec(r.stderr ?? '');
  return m ? m[1] : null;
}

const CP = `${LIB}/*`;

// Module flags from the Flink 1.20 distribution's default env.java.opts.all (Java 17).
const JAVA_OPTS = `-XX:+IgnoreUnrecognizedVMOptions -XX:+UseG1GC
--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
--add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
--add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED`.split(/\s+/);

const LOG4J = `rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.append = true
appender.main.fileName = \${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.pekko.name = org.apache.pekko
logger.pekko.level = INFO
logger.netty.name = org.apache.flink.shaded.netty4.io.netty.channel.DefaultChannelPipeline
logger.netty.level = ERROR
`;

// ---------------------------------------------------------------- cluster
class Cluster {
  /** extraConf: keys that override the defaults below (the state phase's RocksDB settings). */
  constructor(name, numTms, extraConf = {}, parallelism = opts.parallelism) {
    this.parallelism = parallelism;
    this.extraConf = extraConf;
    this.name = name;
    this.numTms = numTms;
    this.dir = path.join(tmpRoot, name);
    this.tms = new Map(); // resourceId -> pid
    this.jmPid = null;
    this.nextTm = 0;
  }

  async configure() {
    fs.mkdirSync(path.join(this.dir, 'conf'), { recursive: true });
    for (const d of ['logs', 'io', 'web', 'checkpoints', 'out']) fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    this.rpcPort = await freePort();
    this.restPort = await freePort();
    this.base = `http://127.0.0.1:${this.restPort}`;
    const conf = {
      'jobmanager.rpc.address': '127.0.0.1',
      'jobmanager.rpc.port': this.rpcPort,
      'jobmanager.bind-host': '127.0.0.1',
      'jobmanager.memory.process.size': `${opts.jmMb}m`,
      'jobmanager.execution.failover-strategy': 'region',
      'taskmanager.bind-host': '127.0.0.1',
      'taskmanager.host': '127.0.0.1',
      'taskmanager.memory.process.size': `${opts.tmMb}m`,
      'taskmanager.memory.managed.size': '0m', // heap state backend uses no managed memory
      'taskmanager.numberOfTaskSlots': 1,
      'parallelism.default': this.parallelism,
      'rest.address': '127.0.0.1',
      'rest.bind-address': '127.0.0.1',
      'rest.port': this.restPort,
      'heartbeat.interval': 1000,
      'heartbeat.timeout': 5000,
      'restart-strategy.type': 'fixed-delay',
      'restart-strategy.fixed-delay.attempts': 2147483647,
      'restart-strategy.fixed-delay.delay': `${opts.restartDelayMs} ms`,
      'state.backend.type': 'hashmap',
      'state.checkpoints.dir': `file://${path.join(this.dir, 'checkpoints')}`,
      'io.tmp.dirs': path.join(this.dir, 'io'),
      'web.upload.dir': path.join(this.dir, 'web'),
      'web.tmpdir': path.join(this.dir, 'web'),
      'web.checkpoints.history': 1000,
      'metrics.fetcher.update-interval': 250,
      // The REST job/vertex views are served from a cache refreshed at this interval
      // (default 3000 ms); the recovery poller needs them fresh.
      'web.refresh-interval': 50,
      'cluster.evenly-spread-out-slots': true,
      ...this.extraConf,
    };
    fs.writeFileSync(path.join(this.dir, 'conf', 'config.yaml'),
      Object.entries(conf).map(([k, v]) => `${k}: ${typeof v === 'string' && /[:#]/.test(v) ? JSON.stringify(v) : v}`).join('\n') + '\n');
    fs.writeFileSync(path.join(this.dir, 'conf', 'log4j.properties'), LOG4J);
    // What bin/jobmanager.sh and bin/taskmanager.sh do: derive JVM memory flags and
    // dynamic memory properties from the config with BashJavaUtils.
    this.jmParams = this.resourceParams('GET_JM_RESOURCE_PARAMS');
    this.tmParams = this.resourceParams('GET_TM_RESOURCE_PARAMS');
  }

  resourceParams(cmd) {
    const r = spawnSync('java', ['-cp', CP, `-Dlog4j.configurationFile=file:${path.join(this.dir, 'conf', 'log4j.properties')}`,
      `-Dlog.file=${path.join(this.dir, 'logs', 'bash-java-utils.log')}`,
      'org.apache.flink.runtime.util.bash.BashJavaUtils', cmd, '--configDir', path.join(this.dir, 'conf')], { encoding: 'utf8' });
    const lines = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:'))
      .map((l) => l.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length).trim());
    if (lines.length < 2) throw new Error(`BashJavaUtils ${cmd} failed: ${r.stdout}\n${r.stderr}`);
    return { jvm: lines[0].split(/\s+/).filter(Boolean), dyn: lines[1].split(/\s+/).filter(Boolean) };
  }

  spawnJvm(role, mainClass, params, extraArgs) {
    const logFile = path.join(this.dir, 'logs', `${role}.log`);
    const out = fs.openSync(path.join(this.dir, 'logs', `${role}.out`), 'a');
    const args = [...params.jvm, ...JAVA_OPTS,
      `-Dlog.file=${logFile}`,
      `-Dlog4j.configurationFile=file:${path.join(this.dir, 'conf', 'log4j.properties')}`,
      '-classpath', CP, mainClass, '--configDir', path.join(this.dir, 'conf'), ...params.dyn, ...extraArgs];
    const proc = spawn('java', args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const rec = { name: `${this.name}/${role}`, proc, exitCode: null, cluster: true };
    proc.on('exit', (code, sig) => { rec.exitCode = code ?? sig ?? 'exited'; });
    children.set(proc.pid, rec);
    return proc.pid;
  }

  startJm() {
    this.jmPid = this.spawnJvm('jobmanager', 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint', this.jmParams, []);
  }

  startTm() {
    const id = `tm-${this.nextTm++}`;
    const pid = this.spawnJvm(id, 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner', this.tmParams,
      ['-D', `taskmanager.resource-id=${id}`]);
    this.tms.set(id, pid);
    return id;
  }

  /** Spawns JM + TMs at once; returns ms from spawn to /overview showing all TMs. */
  async start() {
    await this.configure();
    log(`${this.name}: starting 1 JobManager + ${this.numTms} TaskManagers (REST ${this.restPort})`);
    const t0 = performance.now();
    this.startJm();
    for (let i = 0; i < this.numTms; i++) this.startTm();
    await this.waitTms(this.numTms, 120000);
    const ms = performance.now() - t0;
    log(`${this.name}: ready in ${ms.toFixed(0)} ms`);
    return ms;
  }

  checkAlive() {
    const jm = children.get(this.jmPid);
    if (!jm || jm.exitCode !== null) throw new Error(`${this.name}: JobManager died; see ${this.dir}/logs (run with --keep-tmp)`);
  }

  async waitTms(n, timeoutMs) {
    const t0 = Date.now();
    for (;;) {
      this.checkAlive();
      try {
        const o = await this.get('/overview', 1000);
        if (o.taskmanagers >= n) return o;
      } catch { /* REST not up yet */ }
      if (Date.now() - t0 > timeoutMs) throw new Error(`${this.name}: ${n} TaskManagers not registered after ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  async req(method, p, body, timeoutMs = 10000) {
    const init = { method, signal: AbortSignal.timeout(timeoutMs) };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { init.body = JSON.stringify(body); init.headers = { 'content-type': 'application/json' }; }
    const r = await fetch(this.base + p, init);
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${text.slice(0, 2000)}`);
    return text ? JSON.parse(text) : {};
  }

  get(p, timeoutMs) { return this.req('GET', p, undefined, timeoutMs); }

  async uploadJar() {
    const fd = new FormData();
    fd.append('jarfile', new Blob([fs.readFileSync(JOB_JAR)], { type: 'application/x-java-archive' }), 'weir-flink-peer-jobs.jar');
    const r = await this.req('POST', '/jars/upload', fd, 60000);
    this.jarId = path.basename(r.filename);
    return this.jarId;
  }

  async submit(entryClass, args) {
    if (!this.jarId) await this.uploadJar();
    const r = await this.req('POST', `/jars/${this.jarId}/run`, {
      entryClass: `dev.weir.bench.${entryClass}`, programArgsList: args, parallelism: this.parallelism,
    }, 60000);
    log(`${this.name}: submitted ${entryClass} ${args.join(' ')} -> job ${r.jobid}`);
    return r.jobid;
  }

  async waitRunning(jobId, timeoutMs = 60000) {
    const t0 = Date.now();
    for (;;) {
      this.checkAlive();
      const j = await this.get(`/jobs/${jobId}`);
      if (j.state === 'RUNNING' && j.vertices.every((v) => v.status === 'RUNNING')) return j;
      if (['FAILED', 'CANCELED', 'FINISHED'].includes(j.state)) throw new Error(`job ${jobId} is ${j.state}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`job ${jobId} not RUNNING after ${timeoutMs} ms (${j.state})`);
      await sleep(50);
    }
  }

  async cancel(jobId) {
    try { await this.req('PATCH', `/jobs/${jobId}?mode=cancel`); } catch (e) { log(`cancel: ${e.message}`); return; }
    const t0 = Date.now();
    while (Date.now() - t0 < 30000) {
      const j = await this.get(`/jobs/${jobId}`);
      if (['CANCELED', 'FAILED', 'FINISHED'].includes(j.state)) return;
      await sleep(100);
    }
    log(`job ${jobId} did not reach CANCELED within 30 s`);
  }

  /** Sum over subtasks of a task-level metric of one vertex (via the REST metric fetcher). */
  async vertexMetric(jobId, vertexId, metric) {
    const r = await this.get(`/jobs/${jobId}/vertices/${vertexId}/subtasks/metrics?get=${metric}&agg=sum`);
    const m = r.find((x) => x.id === metric);
    return m ? Number(m.sum) : null;
  }

  async stop() {
    log(`${this.name}: stopping`);
    const pids = [...this.tms.values(), this.jmPid].filter((p) => p != null);
    await Promise.all(pids.map((p) => stopProc(p)));
    this.tms.clear();
  }
}

// ---------------------------------------------------------------- measurements


/**
 * Records/s through the sink over windowS seconds after opts.warmupS, from the sink's own
 * count files (exact timestamps). The REST metric numRecordsIn of the sum vertex is read at
 * the window's ends as a cross-check (it is served by a metric fetcher, so less precise).
 */
async function measureThroughput(cluster, jobId, windowS, statsDir) {
  const job = await cluster.waitRunning(jobId, 120000);
  const sumVertex = job.vertices.find((v) => /sum/i.test(v.name));
  // The metric fetcher answers from its store and refreshes it asynchronously, so the first
  // request after a pause returns an old value: ask, wait, ask again.
  const restRead = async () => {
    try {
      await cluster.vertexMetric(jobId, sumVertex.id, 'numRecordsIn');
      await sleep(400);
      return { v: await cluster.vertexMetric(jobId, sumVertex.id, 'numRecordsIn'), t: performance.now() };
    } catch { return null; }
  };
  log(`warm-up ${opts.warmupS} s`);
  await sleep(opts.warmupS * 1000);
  const t0 = Date.now();
  const r0 = await restRead();
  await sleep(windowS * 1000 + 300); // + a bit so every subtask has reported past the window end
  const r1 = await restRead();
  const t1 = t0 + windowS * 1000;
  const series = readCounts(statsDir);
  if (!series.length) throw new Error(`no sink count files in ${statsDir}`);
  const rps = ((countAt(series, t1) - countAt(series, t0)) / (t1 - t0)) * 1000;
  const perSecond = [];
  for (let t = t0; t + 1000 <= t1; t += 1000) perSecond.push(countAt(series, t + 1000) - countAt(series, t));
  const restRps = r0?.v != null && r1?.v != null ? (r1.v - r0.v) / ((r1.t - r0.t) / 1000) : null;
  log(`throughput ${Math.round(rps)} records/s over ${windowS} s (REST metric cross-check ${Math.round(restRps)})`);
  return { rps, windowS, minIntervalRps: Math.min(...perSecond), maxIntervalRps: Math.max(...perSecond), restRps, t0, t1 };
}

async function checkpointStats(cluster, jobId, sinceMs) {
  const c = await cluster.get(`/jobs/${jobId}/checkpoints`);
  const done = (c.history ?? []).filter((h) => h.status === 'COMPLETED' && h.trigger_timestamp >= sinceMs);
  const durations = done.map((h) => h.end_to_end_duration);
  const last = done.sort((x, y) => y.id - x.id)[0];
  return {
    count: durations.length,
    failed_total: c.counts?.failed ?? null,
    duration_ms_median: median(durations),
    duration_ms_max: durations.length ? Math.max(...durations) : null,
    duration_ms_min: durations.length ? Math.min(...durations) : null,
    state_size_bytes_last: last ? (last.state_size ?? last.checkpointed_size ?? null) : null,
    durations_ms: durations,
  };
}

async function throughputPhase(result) {
  const cl = new Cluster('throughput', 2);
  try {
    rss.phase = 'startup';
    result.startup_ms = round(await cl.start());
    const cfg = await cl.get('/config');
    result.flink_version = cfg['flink-version'];

    if (opts.only.has('throughput')) {
      for (const [label, ckptMs] of [['no_checkpoint', 0], ['checkpoint_1s', 1000]]) {
        rss.phase = `throughput_${label}`;
        const statsDir = path.join(cl.dir, `stats-${label}`);
        const jobId = await cl.submit('ThroughputJob', ['--keys', String(opts.keys), '--checkpoint-interval-ms', String(ckptMs),
          '--name', `throughput-${label}`, '--stats-dir', statsDir]);
        const t = await measureThroughput(cl, jobId, opts.windowS, statsDir);
        const since = t.t0;
        const entry = { records_per_s: round(t.rps), window_s: round(t.windowS, 1), keys: opts.keys, checkpoint_interval_ms: ckptMs,
          interval_rps_min: round(t.minIntervalRps), interval_rps_max: round(t.maxIntervalRps), rest_metric_records_per_s: round(t.restRps) };
        if (ckptMs) {
          const s = await checkpointStats(cl, jobId, since);
          entry.checkpoints = { count: s.count, duration_ms_median: s.duration_ms_median, duration_ms_max: s.duration_ms_max };
        }
        result.throughput[label] = entry;
        await cl.cancel(jobId);
      }
    }

    if (opts.only.has('checkpoint')) {
      rss.phase = 'checkpoint_1m_keys';
      const statsDir = path.join(cl.dir, 'stats-checkpoint-1m-keys');
      const jobId = await cl.submit('ThroughputJob', ['--keys', String(opts.ckptKeys), '--checkpoint-interval-ms', '1000',
        '--name', 'checkpoint-1m-keys', '--stats-dir', statsDir]);
      const t = await measureThroughput(cl, jobId, opts.ckptWindowS, statsDir);
      const since = t.t0;
      const s = await checkpointStats(cl, jobId, since);
      log(`checkpoints: ${s.count} completed, median ${s.duration_ms_median} ms, max ${s.duration_ms_max} ms, state ${s.state_size_bytes_last} B`);
      result.checkpoint_1m_keys = { keys: opts.ckptKeys, checkpoint_interval_ms: 1000, ...s, records_per_s: round(t.rps), window_s: round(t.windowS, 1) };
      await cl.cancel(jobId);
    }
  } finally {
    rss.phase = 'idle';
    await cl.stop();
  }
}

/** One point of a scaling curve: ThroughputJob at `keys` and `parallelism`. */
async function scalingPoint(cl, { keys, parallelism, checkpointing, name }) {
  const statsDir = path.join(cl.dir, `stats-${name}`);
  const ckptMs = intervalMs(checkpointing);
  const jobId = await cl.submit('ThroughputJob', ['--keys', String(keys), '--checkpoint-interval-ms', String(ckptMs),
    '--parallelism', String(parallelism), '--name', `scaling-${name}`, '--stats-dir', statsDir]);
  try {
    await cl.waitRunning(jobId, 120000);
    const firstPass = await waitFirstPass(statsDir, keys, opts.scaling.fillTimeoutS, sleep);
    const t = await measureThroughput(cl, jobId, opts.windowS, statsDir);
    const entry = { records_per_s: round(t.rps), window_s: round(t.windowS, 1), first_pass_s: round(firstPass, 1),
      interval_rps_min: round(t.minIntervalRps), interval_rps_max: round(t.maxIntervalRps) };
    if (ckptMs) {
      const s = await checkpointStats(cl, jobId, t.t0);
      entry.checkpoints = { count: s.count, duration_ms_median: s.duration_ms_median, duration_ms_max: s.duration_ms_max, state_size_bytes_last: s.state_size_bytes_last };
    }
    return entry;
  } finally {
    await cl.cancel(jobId);
  }
}

async function scaling(result) {
  const out = await scalingPhase(opts.scaling, {
    startCluster: async (name, numTms) => {
      const cl = new Cluster(name, numTms, { 'taskmanager.memory.process.size': `${opts.scalingTmMb}m` }, numTms);
      try { await cl.start(); } catch (e) { await cl.stop(); throw e; }
      result.flink_version ??= (await cl.get('/config'))['flink-version'];
      return cl;
    },
    runPoint: scalingPoint,
    stopCluster: (cl) => cl.stop(),
    rss, log, round,
  });
  out.setup.tm_memory = `taskmanager.memory.process.size ${opts.scalingTmMb}m, managed 0m (heap state backend)`;
  return out;
}

/** Snapshot of every subtask: vertexId -> [{subtask, attempt, status, tm}] */
async function subtaskStates(cl, jobId, vertices) {
  const out = {};
  await Promise.all(vertices.map(async (v) => {
    const d = await cl.get(`/jobs/${jobId}/vertices/${v.id}`, 2000);
    out[v.id] = d.subtasks.map((s) => ({ subtask: s.subtask, attempt: s.attempt, status: s.status, tm: s['taskmanager-id'] }));
  }));
  return out;
}


async function waitCheckpoints(cl, jobId, n, timeoutMs = 60000) {
  const t0 = Date.now();
  const base = (await cl.get(`/jobs/${jobId}/checkpoints`)).counts?.completed ?? 0;
  while (Date.now() - t0 < timeoutMs) {
    const c = await cl.get(`/jobs/${jobId}/checkpoints`);
    if ((c.counts?.completed ?? 0) >= base + n) return;
    await sleep(200);
  }
  throw new Error(`no ${n} completed checkpoints within ${timeoutMs} ms`);
}

async function recoveryPhase(result) {
  const cl = new Cluster('recovery', opts.parallelism + 1);
  try {
    rss.phase = 'recovery_startup';
    result.startup_ms_3tm = round(await cl.start());
    result.flink_version ??= (await cl.get('/config'))['flink-version'];
    rss.phase = 'recovery';
    const outDir = path.join(cl.dir, 'out');
    const jobId = await cl.submit('RecoveryJob', ['--out-dir', outDir, '--rate', String(opts.recoveryRate), '--keys', String(opts.keys),
      '--checkpoint-interval-ms', '1000', '--restart-delay-ms', String(opts.restartDelayMs)]);
    const job = await cl.waitRunning(jobId);
    const runs = [];
    for (let r = 0; r < opts.recoveryRuns; r++) {
      if (r > 0) {
        // Restore a spare: start a new TM and wait for it to register.
        const id = cl.startTm();
        log(`started replacement ${id}`);
        await cl.waitTms(opts.parallelism + 1, 60000);
      }
      await waitCheckpoints(cl, jobId, 3);
      await sleep(1000);
      const before = await subtaskStates(cl, jobId, job.vertices);
      const all = Object.values(before).flat();
      if (!all.every((s) => s.status === 'RUNNING')) throw new Error('job not fully RUNNING before kill');
      const maxAttempt = Math.max(...all.map((s) => s.attempt));
      const sinkVertex = job.vertices.find((v) => /sink/i.test(v.name));
      const victimTm = before[sinkVertex.id][0].tm;
      const victimPid = cl.tms.get(victimTm);
      if (!victimPid) throw new Error(`cannot map TaskManager ${victimTm} to a pid`);
      log(`run ${r + 1}/${opts.recoveryRuns}: kill -9 ${victimTm} (pid ${victimPid}), which runs tasks`);
      const killT = Date.now();
      const killP = performance.now();
      process.kill(victimPid, 'SIGKILL');
      cl.tms.delete(victimTm);
      let detectedMs = null;
      let runningMs = null;
      let firstOutMs = null;
      let restarts = 0;
      let lastAttempt = maxAttempt;
      while (performance.now() - killP < 120000 && (runningMs === null || firstOutMs === null)) {
        if (runningMs === null) {
          let st;
          try { st = await subtaskStates(cl, jobId, job.vertices); } catch { await sleep(50); continue; }
          const subs = Object.values(st).flat();
          const now = performance.now() - killP;
          const cur = Math.max(...subs.map((s) => s.attempt));
          if (cur > lastAttempt) { restarts += cur - lastAttempt; lastAttempt = cur; }
          if (detectedMs === null && subs.some((s) => s.status !== 'RUNNING' || s.attempt > maxAttempt)) detectedMs = now;
          if (subs.every((s) => s.status === 'RUNNING' && s.attempt > maxAttempt)) runningMs = now;
        }
        if (firstOutMs === null) {
          const ts = firstSinkLineAfter(outDir, maxAttempt + 1);
          if (ts !== null) firstOutMs = ts - killT;
        }
        if (runningMs === null || firstOutMs === null) await sleep(50);
      }
      const run = { kill_to_failure_detected_ms: round(detectedMs), kill_to_running_ms: round(runningMs), kill_to_first_output_ms: round(firstOutMs),
        restarts, killed: victimTm };
      log(`run ${r + 1}: ${JSON.stringify(run)}`);
      runs.push(run);
      if (runningMs === null) throw new Error('job did not recover within 120 s');
    }
    await cl.cancel(jobId);
    result.recovery = {
      runs,
      kill_to_running_ms_median: median(runs.map((x) => x.kill_to_running_ms)),
      kill_to_first_output_ms_median: median(runs.map((x) => x.kill_to_first_output_ms)),
      rate_per_subtask: opts.recoveryRate,
      checkpoint_interval_ms: 1000,
      restart_delay_ms: opts.restartDelayMs,
      heartbeat_timeout_ms: 5000,
    };
  } finally {
    rss.phase = 'idle';
    await cl.stop();
  }
}

// ---------------------------------------------------------------- main
async function main() {
  build();
  sampler.start();
  const load0 = os.loadavg();
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-flink-bench-'));
  log(`temp dir ${tmpRoot}`);
  const result = {
    system: 'flink',
    flink_version: null,
    jvm_version: javaVersion(),
    mode: opts.quick ? 'quick' : 'full',
    started_at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, mem_gib: round(os.totalmem() / 2 ** 30, 1) },
    setup: { parallelism: opts.parallelism, slots_per_tm: 1, tm_process_mb: opts.tmMb, jm_process_mb: opts.jmMb, state_backend: 'hashmap',
      warmup_s: opts.warmupS, window_s: opts.windowS, ckpt_window_s: opts.ckptWindowS },
    startup_ms: null,
    throughput: {},
  };
  if (opts.only.has('throughput') || opts.only.has('checkpoint')) await throughputPhase(result);
  if (opts.only.has('recovery')) await recoveryPhase(result);
  if (opts.only.has('scaling')) {
    result.scaling = await scaling(result);
  }
  if (opts.only.has('state')) {
    const { statePhase } = await import('./state-phase.mjs');
    result.state = await statePhase({ Cluster, opts, log, sleep, tmpRoot });
  }
  const shares = sampler.cpuShares();
  result.machine.loadavg_1m_start = round(load0[0], 2);
  result.machine.loadavg_1m_end = round(os.loadavg()[0], 2);
  // Share of the machine's CPU time (all cores) used by processes other than the Flink JVMs
  // during the run (includes this harness). High values mean
  // other work was competing with the benchmark.
  result.machine.other_cpu_share = round(shares.other, 3);
  result.machine.cluster_cpu_share = round(shares.cluster, 3);
  result.peak_rss_mb = round(rss.overall);
  result.peak_rss_mb_by_phase = Object.fromEntries(Object.entries(rss.byPhase).filter(([k]) => k !== 'idle').map(([k, v]) => [k, round(v)]));
  // Flat headline figures for a compare script.
  result.summary = {
    startup_ms: result.startup_ms,
    throughput_rps_no_checkpoint: result.throughput.no_checkpoint?.records_per_s ?? null,
    throughput_rps_checkpoint_1s: result.throughput.checkpoint_1s?.records_per_s ?? null,
    checkpoint_1m_keys_duration_ms_median: result.checkpoint_1m_keys?.duration_ms_median ?? null,
    checkpoint_1m_keys_duration_ms_max: result.checkpoint_1m_keys?.duration_ms_max ?? null,
    recovery_kill_to_running_ms: result.recovery?.kill_to_running_ms_median ?? null,
    recovery_kill_to_first_output_ms: result.recovery?.kill_to_first_output_ms_median ?? null,
    peak_rss_mb: result.peak_rss_mb,
    ...scalingSummary(result.scaling),
  };
  result.finished_at = new Date().toISOString();
  const line = JSON.stringify(result);
  if (opts.out) fs.writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(line + '\n');
}

main().then(() => {
  killAllSync();
  cleanupTmp();
  process.exit(0);
}, (e) => {
  log(`error: ${e.stack ?? e}`);
  if (tmpRoot && !opts.keepTmp) log('(re-run with --keep-tmp to keep the cluster logs)');
  killAllSync();
  if (!opts.keepTmp) cleanupTmp(); else log(`logs kept in ${tmpRoot}`);
  process.exit(1);
});

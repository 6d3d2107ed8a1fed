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
// Progress goes to stderr; the last line on stdout is one JSON object. The clusters come
// from cluster.mjs. Node.js >= 20. Every process it starts is stopped by pid on exit.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { orUsageExit, parseArgv, phaseSet } from '../../../scripts/bench/lib/args.mjs';
import { children, cleanupTmp, installExitHandlers, killAllSync, makeLogger, makeTmpRoot, median, round, sleep } from '../../../scripts/bench/lib/common.mjs';
import { createClusterSampler } from '../../../scripts/bench/lib/proc.mjs';
import { countAt, firstSinkLineAfter, readCounts } from '../../../scripts/bench/lib/sink-files.mjs';
import { SCALING_USAGE, intervalMs, scalingOptions, scalingPhase, pointEntry, scalingSummary, waitFirstPass } from '../../../scripts/bench/lib/scaling.mjs';
import { FlinkCluster, buildFlinkJobs, javaVersion } from './cluster.mjs';

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
const log = makeLogger('flink-bench');
let tmpRoot = null;
installExitHandlers(log);

// ---------------------------------------------------------------- RSS sampling
// Peak RSS and the cluster's share of the CPU, to tell how much other work competed.
const sampler = createClusterSampler(children);
const rss = sampler.rss;

// ---------------------------------------------------------------- cluster
// What the measurements below rely on, over the defaults of cluster.mjs.
const RUN_CONF = {
  'jobmanager.execution.failover-strategy': 'region',
  'restart-strategy.type': 'fixed-delay',
  'restart-strategy.fixed-delay.attempts': 2147483647,
  'restart-strategy.fixed-delay.delay': `${opts.restartDelayMs} ms`,
  'web.checkpoints.history': 1000, // checkpointStats reads every checkpoint of a window
  'metrics.fetcher.update-interval': 250,
  // The REST job/vertex views are served from a cache refreshed at this interval
  // (default 3000 ms); the recovery poller needs them fresh.
  'web.refresh-interval': 50,
};

/** A cluster in the run's temp dir. conf: keys over RUN_CONF (the state phase's RocksDB settings). */
function newCluster(name, numTms, conf = {}, parallelism = opts.parallelism) {
  return new FlinkCluster(tmpRoot, name, numTms, { log, parallelism, jmMb: opts.jmMb, tmMb: opts.tmMb, conf: { ...RUN_CONF, ...conf } });
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
  const cl = newCluster('throughput', 2);
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
    return pointEntry(t, firstPass, ckptMs ? await checkpointStats(cl, jobId, t.t0) : undefined, round);
  } finally {
    await cl.cancel(jobId);
  }
}

async function scaling(result) {
  const out = await scalingPhase(opts.scaling, {
    startCluster: async (name, numTms) => {
      const cl = newCluster(name, numTms, { 'taskmanager.memory.process.size': `${opts.scalingTmMb}m` }, numTms);
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
  const cl = newCluster('recovery', opts.parallelism + 1);
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
  if (opts.build) buildFlinkJobs(log);
  sampler.start();
  const load0 = os.loadavg();
  tmpRoot = makeTmpRoot('weir-flink-bench-', opts.keepTmp);
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
    result.state = await statePhase({ newCluster, opts, log, sleep });
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
  if (opts.keepTmp) log(`logs kept in ${tmpRoot}`);
  cleanupTmp();
  process.exit(1);
});

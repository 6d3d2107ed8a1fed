#!/usr/bin/env node
// Issue 17: end-to-end latency (source timestamp -> sink, over a keyBy shuffle between two
// TaskManagers) at 10 %, 50 % and 90 % of the maximum throughput, checkpoint every 1 s, on
// Weir and on Flink (bench/peers/flink LatencyJob, Flink's default buffer timeout of 100 ms).
// Then Weir again at several `execution.buffer-timeout` values (and, if asked, several
// `taskmanager.memory.segment-size` values): the maximum throughput and the latency at the
// same record rates for each, to choose the defaults.
//
// The job (packages/examples/src/bench-latency.ts, LatencyJob.java): generator {key: i %
// keys, value: 1, ts: wall clock ms at emission} rate-limited to a total records/s -> keyBy
// -> running sum in keyed state -> a sink that puts now - ts of every record into a log-bucket
// histogram and writes one per second (lib/latency-histogram.mjs). Parallelism 2, 1 slot per
// TaskManager, 2 TaskManagers. The maximum is an unthrottled run of the same job (--max-rps
// skips it). Progress on stderr, a table and then one JSON object as the last stdout line.

import path from 'node:path';
import os from 'node:os';
import {
  EXAMPLES, WeirCluster, checkpointStats, ensureBuilt, emitResult, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  median, parseArgv, round, runBenchmark, sleep, startSampling, weirVersion,
} from './lib/common.mjs';
import { readIntervals, windowStats } from './lib/latency-histogram.mjs';
import { pidJiffies } from './lib/proc.mjs';

const USAGE = `usage: node scripts/bench/latency.mjs [options]
  --system weir|flink|both    which systems (default both)
  --quick                     warm-up 3 s, windows 6 s, sweep at load 0.5 only
  --keys N                    keys (default 10000)
  --duration-s N              measuring window per run (default 15, quick 6)
  --warmup-s N                warm-up before each window (default 5, quick 3)
  --loads LIST                fractions of the maximum (default 0.1,0.5,0.9)
  --max-rps N                 Weir's maximum records/s: skip its unthrottled run
  --flink-max-rps N           the same for Flink
  --buffer-timeouts LIST      Weir sweep, ms (default 0,5,10,50,100; "none" skips it)
  --sweep-loads LIST          loads of the sweep, fractions of the default's maximum (default 0.1,0.5,0.9, quick 0.5)
  --sweep-rounds N            repeat the sweep in alternating order, report medians (default 1)
  --segment-sizes LIST        also sweep taskmanager.memory.segment-size, bytes (default none)
  --checkpoint-ms N           checkpoint interval (default 1000)
  --hops 1|2                  network hops: 2 rebalances the sum's output to the sink (default 1)
  --no-build                  do not build Weir nor the Flink jobs
  --keep-tmp                  keep the temp dir (logs, histograms)
  --out FILE                  also write the JSON to FILE`;

const o = parseArgv(process.argv.slice(2), ['quick', 'no-build', 'keep-tmp'], USAGE);
const unknown = Object.keys(o).filter((k) => !USAGE.includes(`--${k} `) && !USAGE.includes(`--${k}\n`));
if (unknown.length) { console.error(`latency.mjs: unknown option --${unknown[0]}\n${USAGE}`); process.exit(2); }
const quick = !!o.quick;
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const list = (k, d) => (o[k] === undefined ? d : o[k] === 'none' ? [] : String(o[k]).split(',').map(Number));
const opts = {
  system: o.system ?? 'both',
  keys: num('keys', 10000),
  windowS: num('duration-s', quick ? 6 : 15),
  warmupS: num('warmup-s', quick ? 3 : 5),
  loads: list('loads', [0.1, 0.5, 0.9]),
  maxRps: num('max-rps', null),
  flinkMaxRps: num('flink-max-rps', null),
  bufferTimeouts: list('buffer-timeouts', [0, 5, 10, 50, 100]),
  sweepLoads: list('sweep-loads', quick ? [0.5] : [0.1, 0.5, 0.9]),
  sweepRounds: num('sweep-rounds', 1),
  segmentSizes: list('segment-sizes', []),
  checkpointMs: num('checkpoint-ms', 1000),
  hops: num('hops', 1),
  build: !o['no-build'],
  keepTmp: !!o['keep-tmp'],
  out: o.out,
};
for (const [k, v] of Object.entries(opts)) {
  const bad = Array.isArray(v) ? v.some((x) => !Number.isFinite(x) || x < 0) : typeof v === 'number' && (!Number.isFinite(v) || v < 0);
  if (bad) { console.error(`latency.mjs: bad value for ${k}: ${o[k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] ?? v}\n${USAGE}`); process.exit(2); }
}
if (![1, 2].includes(opts.hops)) { console.error(`latency.mjs: --hops must be 1 or 2\n${USAGE}`); process.exit(2); }
if (!['weir', 'flink', 'both'].includes(opts.system)) { console.error(`latency.mjs: --system must be weir, flink or both\n${USAGE}`); process.exit(2); }
if ([...opts.loads, ...opts.sweepLoads].some((l) => l <= 0 || l > 1)) { console.error('latency.mjs: loads are fractions in (0, 1]'); process.exit(2); }

const log = makeLogger('latency');
installExitHandlers(log);
const JOB = path.join(EXAMPLES, 'bench-latency.ts');
const WEIR_DEFAULT_BUFFER_TIMEOUT_MS = 50;
const FLINK_DEFAULT_BUFFER_TIMEOUT_MS = 100;
let tmpRoot;
let runNo = 0;
const JIFFY_US = 10000; // USER_HZ is 100 on Linux

/** CPU jiffies of the cluster's JobManager and TaskManagers. */
function clusterJiffies(cluster) {
  return [cluster.jmPid, ...(cluster.tmPids ?? [])].reduce((a, pid) => a + (pidJiffies(pid) ?? 0), 0);
}

/**
 * One run on a started cluster: submit (through `side`), warm up, measure the window from
 * the sinks' histograms, cancel. rate 0 = unthrottled.
 */
async function measure(side, { rate, label, ...extra }) {
  const outDir = path.join(side.cluster.dir, `run-${++runNo}`);
  const jobId = await side.submit(outDir, rate, extra);
  try {
    await side.cluster.waitRunning(jobId);
    await sleep(opts.warmupS * 1000);
    const t0 = Date.now();
    const ckpt0 = await side.completed(jobId);
    const cpu0 = clusterJiffies(side.cluster);
    await sleep(opts.windowS * 1000);
    const t1 = Date.now();
    const cpu1 = clusterJiffies(side.cluster);
    const ckpt1 = await side.completed(jobId);
    await sleep(1500); // every sink has written the second that ends after t1
    const s = windowStats(readIntervals(outDir), t0, t1);
    if (!s.n) throw new Error(`${side.name} ${label}: no latency histograms in the window (${outDir})`);
    const entry = {
      target_rps: rate || null, rps: round(s.rps), p50_ms: round(s.p50_ms, 2), p99_ms: round(s.p99_ms, 2), p999_ms: round(s.p999_ms, 2),
      max_ms: round(s.max_ms, 1), records: s.n, checkpoints: ckpt1 - ckpt0, loadavg_1m: round(os.loadavg()[0], 2),
      // Less sensitive to other work on the machine than records/s: what batching costs.
      cpu_us_per_record: round(((cpu1 - cpu0) * JIFFY_US) / (s.rps * ((t1 - t0) / 1000)), 2),
    };
    if (rate) entry.kept_up = s.rps >= 0.95 * rate;
    log(`${side.name} ${label}: ${Math.round(s.rps)} records/s${rate ? ` (target ${rate})` : ''}, ${entry.cpu_us_per_record} us CPU/record, p50 ${entry.p50_ms} ms, p99 ${entry.p99_ms} ms, p99.9 ${entry.p999_ms} ms, max ${entry.max_ms} ms, ${entry.checkpoints} checkpoints, load ${entry.loadavg_1m}`);
    return entry;
  } finally {
    await side.cluster.cancel(jobId);
  }
}

/** The maximum (an unthrottled run, or given), then each load as a fraction of it. */
async function loadCurve(side, givenMax, extra = {}) {
  const unthrottled = givenMax ? null : await measure(side, { rate: 0, label: 'unthrottled', ...extra });
  const maxRps = givenMax ?? unthrottled.rps;
  const loads = [];
  for (const load of opts.loads) {
    loads.push({ load, ...await measure(side, { rate: Math.max(1, Math.round(load * maxRps)), label: `load ${load}`, ...extra }) });
  }
  return { max_rps: round(maxRps), max_rps_measured: !givenMax, unthrottled, loads };
}

function weirSide(cluster) {
  return {
    name: 'weir',
    cluster,
    submit: (outDir, rate, { bufferTimeoutMs, segmentSize }) => cluster.submit(JOB, [outDir, String(opts.keys), String(opts.checkpointMs), String(rate),
      bufferTimeoutMs == null ? '-' : String(bufferTimeoutMs), segmentSize == null ? '-' : String(segmentSize), String(opts.hops)], 2),
    completed: async (jobId) => (await cluster.checkpoints(jobId)).completed ?? 0,
  };
}

/** Each setting: its maximum and the latency at sweepLoads x refMax, in alternating rounds; medians. */
async function sweep(side, key, values, refMax) {
  const rounds = new Map(values.map((v) => [v, []]));
  for (let r = 0; r < opts.sweepRounds; r++) {
    for (const v of r % 2 ? [...values].reverse() : values) {
      const extra = key === 'buffer_timeout_ms' ? { bufferTimeoutMs: v } : { segmentSize: v };
      const unthrottled = await measure(side, { rate: 0, label: `${key}=${v} unthrottled`, ...extra });
      const loads = [];
      for (const load of opts.sweepLoads) {
        loads.push({ load, ...await measure(side, { rate: Math.max(1, Math.round(load * refMax)), label: `${key}=${v} load ${load}`, ...extra }) });
      }
      rounds.get(v).push({ unthrottled, loads });
    }
  }
  const med = (xs, f) => round(median(xs.map(f)), 2);
  return values.map((v) => {
    const rs = rounds.get(v);
    return {
      [key]: v,
      max_rps: round(median(rs.map((x) => x.unthrottled.rps))),
      unthrottled_p99_ms: med(rs, (x) => x.unthrottled.p99_ms),
      unthrottled_cpu_us_per_record: med(rs, (x) => x.unthrottled.cpu_us_per_record),
      loads: opts.sweepLoads.map((load, i) => ({
        load, target_rps: rs[0].loads[i].target_rps,
        rps: round(median(rs.map((x) => x.loads[i].rps))),
        p50_ms: med(rs, (x) => x.loads[i].p50_ms), p99_ms: med(rs, (x) => x.loads[i].p99_ms), p999_ms: med(rs, (x) => x.loads[i].p999_ms),
        cpu_us_per_record: med(rs, (x) => x.loads[i].cpu_us_per_record), loadavg_1m: med(rs, (x) => x.loads[i].loadavg_1m),
        kept_up: rs.every((x) => x.loads[i].kept_up),
      })),
      rounds: rs.length,
    };
  });
}

async function runWeir() {
  const cluster = new WeirCluster(tmpRoot, 'weir', 2, {}, { log });
  try {
    await cluster.start();
    const side = weirSide(cluster);
    const curve = await loadCurve(side, opts.maxRps);
    const result = { version: weirVersion(), buffer_timeout_ms: WEIR_DEFAULT_BUFFER_TIMEOUT_MS, ...curve };
    if (opts.bufferTimeouts.length) result.buffer_timeout_sweep = await sweep(side, 'buffer_timeout_ms', opts.bufferTimeouts, curve.max_rps);
    if (opts.segmentSizes.length) result.segment_size_sweep = await sweep(side, 'segment_size', opts.segmentSizes, curve.max_rps);
    return result;
  } finally {
    await cluster.stop();
  }
}

async function runFlink() {
  const { FlinkCluster, buildFlinkJobs } = await import('../../bench/peers/flink/cluster.mjs');
  if (opts.build) buildFlinkJobs(log);
  // WARN: the JVMs write no INFO lines (one per checkpoint and more) while latency is measured.
  const cluster = new FlinkCluster(tmpRoot, 'flink', 2, { log, logLevel: 'WARN' });
  try {
    await cluster.start();
    const side = {
      name: 'flink',
      cluster,
      submit: (outDir, rate) => cluster.submit('LatencyJob', ['--out-dir', outDir, '--keys', String(opts.keys),
        '--checkpoint-interval-ms', String(opts.checkpointMs), '--rate', String(rate), '--hops', String(opts.hops)]),
      completed: async (jobId) => (await cluster.checkpointCounts(jobId)).completed ?? 0,
    };
    return { version: (await cluster.get('/config'))['flink-version'], buffer_timeout_ms: FLINK_DEFAULT_BUFFER_TIMEOUT_MS, ...await loadCurve(side, opts.flinkMaxRps) };
  } finally {
    await cluster.stop();
  }
}

function tableRows(result) {
  const rows = [['system', 'setting', 'load', 'target/s', 'records/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'CPU us/rec', 'ckpts', 'load avg']];
  const row = (sys, setting, load, e) => rows.push([sys, setting, load, e.target_rps ?? '-', e.rps, e.p50_ms, e.p99_ms, e.p999_ms, e.max_ms ?? '-',
    e.cpu_us_per_record ?? '-', e.checkpoints ?? '-', e.loadavg_1m ?? '-']);
  for (const sys of ['weir', 'flink']) {
    const r = result[sys];
    if (!r) continue;
    const setting = `buffer-timeout ${r.buffer_timeout_ms} ms`;
    if (r.unthrottled) row(sys, setting, 'max', r.unthrottled);
    for (const l of r.loads) row(sys, setting, l.load, l);
  }
  for (const [key, name] of [['buffer_timeout_sweep', 'buffer_timeout_ms'], ['segment_size_sweep', 'segment_size']]) {
    for (const s of result.weir?.[key] ?? []) {
      const setting = name === 'buffer_timeout_ms' ? `buffer-timeout ${s[name]} ms` : `segment-size ${s[name]} B`;
      row('weir', setting, 'max', { rps: s.max_rps, p50_ms: '-', p99_ms: s.unthrottled_p99_ms, p999_ms: '-', cpu_us_per_record: s.unthrottled_cpu_us_per_record });
      for (const l of s.loads) row('weir', setting, l.load, l);
    }
  }
  return rows;
}

async function main() {
  if (opts.system !== 'flink') ensureBuilt(log, opts.build);
  startSampling();
  tmpRoot = makeTmpRoot('weir-latency-', opts.keepTmp);
  log(`temp dir ${tmpRoot}`);
  const result = {
    bench: 'latency',
    started_at: new Date().toISOString(),
    setup: { parallelism: 2, taskmanagers: 2, slots_per_tm: 1, keys: opts.keys, checkpoint_interval_ms: opts.checkpointMs, hops: opts.hops,
      warmup_s: opts.warmupS, window_s: opts.windowS, loads: opts.loads, node_version: process.versions.node,
      clock: 'wall clock ms with a fraction: Node performance.timeOrigin + performance.now(); JVM System.nanoTime + an epoch offset taken once per JVM' },
  };
  if (opts.system !== 'flink') result.weir = await runWeir();
  if (opts.system !== 'weir') result.flink = await runFlink();
  result.machine = machineReport();
  result.finished_at = new Date().toISOString();
  emitResult(tableRows(result), result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

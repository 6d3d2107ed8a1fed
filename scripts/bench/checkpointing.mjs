#!/usr/bin/env node
// Checkpointing cost (issue 3): on one Weir cluster (JM + 2 TMs, 1 slot each), the
// throughput of packages/examples/src/bench-throughput.ts (10,000 keys, unthrottled) with
// checkpointing off and with a checkpoint every 1 s, the cost in percent, and the
// checkpoint duration (median and worst end_to_end_duration_ms from GetCheckpoints, i.e.
// `weir checkpoints --json`) of the same job holding 1,000,000 keys.
// Prints a table on stdout (progress on stderr) and, as the last stdout line, one JSON object.

import path from 'node:path';
import {
  emitResult, runBenchmark,
  EXAMPLES, WeirCluster, checkpointStats, ensureBuilt, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  measureThroughput, parseArgv, round, rss, startSampling, weirVersion,
} from './lib/common.mjs';

const USAGE = `usage: node scripts/bench/checkpointing.mjs [options]
  --quick              warm-up 5 s, windows 10 s (default warm-up 10 s, windows 30 s)
  --warmup-s N  --window-s N  --ckpt-window-s N
  --keys N             keys of the throughput runs (default 10000)
  --ckpt-keys N        keys of the checkpoint-duration run (default 1000000)
  --interval-ms N      checkpoint interval (default 1000)
  --rounds N           alternate off/on this many times (default 1, quick 1)
  --no-build  --keep-tmp  --out FILE`;
const o = parseArgv(process.argv.slice(2), ['quick', 'no-build', 'keep-tmp'], USAGE);
const quick = !!o.quick;
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const opts = {
  warmupS: num('warmup-s', quick ? 5 : 10), windowS: num('window-s', quick ? 10 : 30), ckptWindowS: num('ckpt-window-s', quick ? 10 : 30),
  keys: num('keys', 10000), ckptKeys: num('ckpt-keys', 1000000), intervalMs: num('interval-ms', 1000), rounds: num('rounds', 1),
  build: !o['no-build'], keepTmp: !!o['keep-tmp'], out: o.out,
};
const log = makeLogger('checkpointing');
installExitHandlers(log);
const JOB = path.join(EXAMPLES, 'bench-throughput.ts');

async function main() {
  ensureBuilt(log, opts.build);
  startSampling();
  const root = makeTmpRoot('weir-bench-ckpt-', opts.keepTmp);
  const cl = new WeirCluster(root, 'cluster', 2, { 'execution.checkpointing.tolerable-failed-checkpoints': 2147483647 }, { log });
  const result = { system: 'weir', benchmark: 'checkpointing', weir_version: weirVersion(), node_version: process.versions.node, started_at: new Date().toISOString(), setup: { ...opts, build: undefined } };
  const runs = { off: [], on: [] };
  try {
    await cl.start();
    let n = 0;
    for (let r = 0; r < opts.rounds; r++) {
      for (const [label, ms] of [['off', 0], ['on', opts.intervalMs]]) {
        rss.phase = `throughput_${label}`;
        const statsDir = path.join(cl.dir, `stats-${n++}-${label}`);
        const jobId = await cl.submit(JOB, [statsDir, String(opts.keys), String(ms)]);
        const t = await measureThroughput(cl, jobId, { warmupS: opts.warmupS, windowS: opts.windowS, statsDir, log });
        const run = { records_per_s: round(t.rps), interval_rps_min: round(t.minIntervalRps), interval_rps_max: round(t.maxIntervalRps) };
        if (ms) {
          const s = await checkpointStats(cl, jobId, t.t0);
          run.checkpoints = { count: s.count, duration_ms_median: s.duration_ms_median, duration_ms_max: s.duration_ms_max, max_alignment_ms_max: s.max_alignment_ms_max, state_size_bytes_last: s.state_size_bytes_last };
        }
        runs[label].push(run);
        await cl.cancel(jobId);
      }
    }
    rss.phase = 'checkpoint_1m_keys';
    const statsDir = path.join(cl.dir, 'stats-1m');
    const jobId = await cl.submit(JOB, [statsDir, String(opts.ckptKeys), String(opts.intervalMs)]);
    const t = await measureThroughput(cl, jobId, { warmupS: opts.warmupS, windowS: opts.ckptWindowS, statsDir, log });
    const s = await checkpointStats(cl, jobId, t.t0);
    const all = await cl.checkpoints(jobId);
    const tasks = (all.history ?? []).filter((h) => h.status === 'COMPLETED' && h.trigger_timestamp >= t.t0).flatMap((h) => h.tasks ?? []);
    const sorted = (xs) => [...xs].sort((a, b) => a - b);
    const med = (xs) => (xs.length ? sorted(xs)[xs.length >> 1] : null);
    s.task_sync_ms_median = med(tasks.map((x) => x.sync_duration_ms));
    s.task_async_ms_median = med(tasks.map((x) => x.async_duration_ms));
    s.task_alignment_ms_median = med(tasks.map((x) => x.alignment_duration_ms));
    await cl.cancel(jobId);
    const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const off = avg(runs.off.map((x) => x.records_per_s));
    const on = avg(runs.on.map((x) => x.records_per_s));
    result.throughput = {
      keys: opts.keys, window_s: opts.windowS, checkpoint_interval_ms: opts.intervalMs,
      no_checkpoint_records_per_s: round(off), checkpoint_records_per_s: round(on),
      cost_percent: round(((off - on) / off) * 100, 1), runs,
    };
    result.checkpoint_1m_keys = { keys: opts.ckptKeys, checkpoint_interval_ms: opts.intervalMs, ...s, records_per_s: round(t.rps), window_s: opts.ckptWindowS };
  } finally {
    rss.phase = 'idle';
    await cl.stop();
  }
  result.machine = machineReport();
  result.peak_rss_mb = round(rss.overall);
  result.finished_at = new Date().toISOString();
  const c = result.checkpoint_1m_keys;
  const rows = [
    ['records/s, checkpointing off', result.throughput.no_checkpoint_records_per_s.toLocaleString('en-US')],
    [`records/s, checkpoint every ${opts.intervalMs} ms`, result.throughput.checkpoint_records_per_s.toLocaleString('en-US')],
    ['cost of checkpointing', `${result.throughput.cost_percent} %`],
    [`checkpoint duration, ${opts.ckptKeys.toLocaleString('en-US')} keys: median`, `${c.duration_ms_median} ms`],
    [`checkpoint duration, ${opts.ckptKeys.toLocaleString('en-US')} keys: worst`, `${c.duration_ms_max} ms`],
    ['checkpoints in the window / state size', `${c.count} / ${round((c.state_size_bytes_last ?? 0) / 1e6, 1)} MB`],
    ['records/s meanwhile (1M keys)', c.records_per_s.toLocaleString('en-US')],
    ['other processes\' CPU share', `${round(result.machine.other_cpu_share * 100)} %`],
  ];
  emitResult(rows, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

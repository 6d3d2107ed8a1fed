#!/usr/bin/env node
// Weir side of the Weir-vs-Flink benchmark: the same jobs and measurements as
// bench/peers/flink/run.mjs, the same JSON shape (system: "weir").
//
// Starts Weir clusters (one `weir jobmanager` + N `weir taskmanager` processes with 1 slot
// each, on 127.0.0.1, from packages/cli/dist/weir.cjs), submits
// packages/examples/src/bench-throughput.ts and bench-recovery.ts, and measures:
//   - time from spawning the processes to ListTaskManagers returning all TMs
//   - throughput (records/s at the sinks) of bench-throughput, checkpointing off and every 1 s
//   - checkpoint duration (median, worst end_to_end_duration_ms) with 1,000,000 keys
//   - recovery after kill -9 of the TaskManager running sink subtask 0, with a spare TM,
//     restart delay 500 ms (as Flink's harness), and again with 0 ms (`recovery_fast`)
//   - peak RSS (sum of VmRSS over the JM + TM pids, every 100 ms)
//   - scaling curves (lib/scaling.mjs): throughput against the key count and the parallelism
// Progress goes to stderr; the last line on stdout is one JSON object.
// Node.js >= 20, built-ins only (plus @grpc/* from the repository's node_modules).

import fs from 'node:fs';
import path from 'node:path';
import {
  EXAMPLES, WeirCluster, checkpointStats, cleanupTmp, ensureBuilt, installExitHandlers, killAllSync, machineReport, makeLogger, makeTmpRoot,
  measureThroughput, median, max, parseArgv, round, rss, sleep, startSampling, waitCheckpoints, weirVersion,
} from './lib/common.mjs';
import { orUsageExit, phaseSet } from './lib/args.mjs';
import { firstSinkLineAfter, killAndMeasure } from './lib/recovery.mjs';
import { SCALING_USAGE, intervalMs, scalingOptions, scalingPhase, pointEntry, scalingSummary, waitFirstPass } from './lib/scaling.mjs';

const USAGE = `usage: node scripts/bench/weir.mjs [options]
  --quick                 short run (warm-up 5 s, windows 10 s, 1 recovery per delay)
  --warmup-s N            warm-up before each measuring window (default 10, quick 5)
  --window-s N            throughput measuring window (default 30, quick 10)
  --ckpt-window-s N       window for the 1M-key checkpoint job (default 30, quick 10)
  --recovery-runs N       kill -9 repetitions (default 3, quick 1)
  --keys N                keys for the throughput jobs (default 10000)
  --ckpt-keys N           keys for the checkpoint-duration job (default 1000000)
  --recovery-rate N       records/s per source subtask in the recovery job (default 2000)
  --parallelism N         job parallelism (default 2)
  --restart-delay-ms N    fixed-delay restart delay (default 500, as Flink's harness)
  --no-fast-recovery      skip the extra recovery run with restart delay 0 ms
  --only LIST             comma list of phases: throughput,checkpoint,recovery,scaling
${SCALING_USAGE}
  --no-build              do not run npm run build
  --keep-tmp              keep the temp dir (logs, checkpoints, sink output)
  --out FILE              also write the JSON to FILE`;

const o = orUsageExit(() => parseArgv(process.argv.slice(2), ['quick', 'no-build', 'keep-tmp', 'no-fast-recovery'], USAGE), 'weir.mjs');
const quick = !!o.quick;
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const opts = {
  quick,
  warmupS: num('warmup-s', quick ? 5 : 10),
  windowS: num('window-s', quick ? 10 : 30),
  ckptWindowS: num('ckpt-window-s', quick ? 10 : 30),
  recoveryRuns: num('recovery-runs', quick ? 1 : 3),
  keys: num('keys', 10000),
  ckptKeys: num('ckpt-keys', 1000000),
  recoveryRate: num('recovery-rate', 2000),
  parallelism: num('parallelism', 2),
  restartDelayMs: num('restart-delay-ms', 500),
  fastRecovery: !o['no-fast-recovery'],
  only: orUsageExit(() => phaseSet(o.only ?? 'throughput,checkpoint,recovery,scaling', ['throughput', 'checkpoint', 'recovery', 'scaling']), 'weir.mjs'),
  scaling: orUsageExit(() => scalingOptions(o), 'weir.mjs'),
  build: !o['no-build'],
  keepTmp: !!o['keep-tmp'],
  out: o.out,
};
const log = makeLogger('weir-bench');
installExitHandlers(log);

const THROUGHPUT_JOB = path.join(EXAMPLES, 'bench-throughput.ts');
const RECOVERY_JOB = path.join(EXAMPLES, 'bench-recovery.ts');

function clusterConfig(restartDelayMs) {
  return {
    'restart-strategy.type': 'fixed-delay',
    'restart-strategy.fixed-delay.attempts': 2147483647,
    'restart-strategy.fixed-delay.delay': `${restartDelayMs}ms`,
    'execution.checkpointing.tolerable-failed-checkpoints': 2147483647,
  };
}

let tmpRoot;

async function throughputPhase(result) {
  const cl = new WeirCluster(tmpRoot, 'throughput', opts.parallelism, clusterConfig(opts.restartDelayMs), { log });
  try {
    rss.phase = 'startup';
    result.startup_ms = round(await cl.start());
    if (opts.only.has('throughput')) {
      for (const [label, ckptMs] of [['no_checkpoint', 0], ['checkpoint_1s', 1000]]) {
        rss.phase = `throughput_${label}`;
        const statsDir = path.join(cl.dir, `stats-${label}`);
        const jobId = await cl.submit(THROUGHPUT_JOB, [statsDir, String(opts.keys), String(ckptMs)], opts.parallelism);
        const t = await measureThroughput(cl, jobId, { warmupS: opts.warmupS, windowS: opts.windowS, statsDir, log });
        const entry = { records_per_s: round(t.rps), window_s: round(t.windowS, 1), keys: opts.keys, checkpoint_interval_ms: ckptMs,
          interval_rps_min: round(t.minIntervalRps), interval_rps_max: round(t.maxIntervalRps), rest_metric_records_per_s: round(t.metricRps) };
        if (ckptMs) {
          const s = await checkpointStats(cl, jobId, t.t0);
          entry.checkpoints = { count: s.count, duration_ms_median: s.duration_ms_median, duration_ms_max: s.duration_ms_max };
          log(`checkpoints in window: ${JSON.stringify(entry.checkpoints)}`);
        }
        result.throughput[label] = entry;
        await cl.cancel(jobId);
      }
    }
    if (opts.only.has('checkpoint')) {
      rss.phase = 'checkpoint_1m_keys';
      const statsDir = path.join(cl.dir, 'stats-checkpoint-1m-keys');
      const jobId = await cl.submit(THROUGHPUT_JOB, [statsDir, String(opts.ckptKeys), '1000'], opts.parallelism);
      const t = await measureThroughput(cl, jobId, { warmupS: opts.warmupS, windowS: opts.ckptWindowS, statsDir, log });
      const s = await checkpointStats(cl, jobId, t.t0);
      log(`checkpoints: ${s.count} completed, median ${s.duration_ms_median} ms, max ${s.duration_ms_max} ms, state ${s.state_size_bytes_last} B`);
      result.checkpoint_1m_keys = { keys: opts.ckptKeys, checkpoint_interval_ms: 1000, ...s, records_per_s: round(t.rps), window_s: round(t.windowS, 1) };
      await cl.cancel(jobId);
    }
  } finally {
    rss.phase = 'idle';
    await cl.stop();
  }
}

async function recoveryPhase(restartDelayMs, runsN, phase) {
  const cl = new WeirCluster(tmpRoot, `recovery-${restartDelayMs}ms`, opts.parallelism + 1, clusterConfig(restartDelayMs), { log });
  try {
    rss.phase = `${phase}_startup`;
    const startup = round(await cl.start());
    rss.phase = phase;
    const outDir = path.join(cl.dir, 'out');
    const jobId = await cl.submit(RECOVERY_JOB, [outDir, String(opts.recoveryRate), String(opts.keys), '1000'], opts.parallelism);
    await cl.waitRunning(jobId);
    const runs = [];
    for (let r = 0; r < runsN; r++) {
      if (r > 0) {
        cl.startTm();
        log('started a replacement TaskManager');
        await cl.waitTms(opts.parallelism + 1);
      }
      await waitCheckpoints(cl, jobId, 3);
      await sleep(1000);
      log(`${phase} run ${r + 1}/${runsN} (restart delay ${restartDelayMs} ms)`);
      runs.push(await killAndMeasure(cl, jobId, { log, firstOutput: (_k, _c, maxAttempt) => firstSinkLineAfter(outDir, maxAttempt + 1) }));
    }
    await cl.cancel(jobId);
    return {
      startup,
      section: {
        runs,
        kill_to_running_ms_median: median(runs.map((x) => x.kill_to_running_ms)),
        kill_to_first_output_ms_median: median(runs.map((x) => x.kill_to_first_output_ms)),
        kill_to_running_ms_max: max(runs.map((x) => x.kill_to_running_ms)),
        kill_to_first_output_ms_max: max(runs.map((x) => x.kill_to_first_output_ms)),
        rate_per_subtask: opts.recoveryRate,
        checkpoint_interval_ms: 1000,
        restart_delay_ms: restartDelayMs,
        heartbeat_timeout_ms: 5000,
      },
    };
  } finally {
    rss.phase = 'idle';
    await cl.stop();
  }
}

/** One point of a scaling curve: the throughput job at `keys` and `parallelism`. */
async function scalingPoint(cl, { keys, parallelism, checkpointing, name }) {
  const statsDir = path.join(cl.dir, `stats-${name}`);
  const ckptMs = intervalMs(checkpointing);
  const jobId = await cl.submit(THROUGHPUT_JOB, [statsDir, String(keys), String(ckptMs)], parallelism);
  try {
    await cl.waitRunning(jobId, 120000);
    const firstPass = await waitFirstPass(statsDir, keys, opts.scaling.fillTimeoutS, sleep);
    const t = await measureThroughput(cl, jobId, { warmupS: opts.warmupS, windowS: opts.windowS, statsDir, log });
    return pointEntry(t, firstPass, ckptMs ? await checkpointStats(cl, jobId, t.t0) : undefined, round);
  } finally {
    await cl.cancel(jobId);
  }
}

async function scaling() {
  return scalingPhase(opts.scaling, {
    startCluster: async (name, numTms) => {
      const cl = new WeirCluster(tmpRoot, name, numTms, clusterConfig(opts.restartDelayMs), { log });
      await cl.start();
      return cl;
    },
    runPoint: scalingPoint,
    stopCluster: (cl) => cl.stop(),
    rss, log, round,
  });
}

async function main() {
  ensureBuilt(log, opts.build);
  startSampling();
  tmpRoot = makeTmpRoot('weir-bench-', opts.keepTmp);
  log(`temp dir ${tmpRoot}`);
  const result = {
    system: 'weir',
    weir_version: weirVersion(),
    node_version: process.versions.node,
    mode: opts.quick ? 'quick' : 'full',
    started_at: new Date().toISOString(),
    machine: {},
    setup: { parallelism: opts.parallelism, slots_per_tm: 1, state_backend: 'heap (in-memory keyed state)', heartbeat_interval_ms: 1000, heartbeat_timeout_ms: 5000,
      warmup_s: opts.warmupS, window_s: opts.windowS, ckpt_window_s: opts.ckptWindowS },
    startup_ms: null,
    throughput: {},
  };
  if (opts.only.has('throughput') || opts.only.has('checkpoint')) await throughputPhase(result);
  if (opts.only.has('recovery')) {
    const r = await recoveryPhase(opts.restartDelayMs, opts.recoveryRuns, 'recovery');
    result.startup_ms_3tm = r.startup;
    result.startup_ms ??= r.startup;
    result.recovery = r.section;
    if (opts.fastRecovery) {
      const f = await recoveryPhase(0, opts.recoveryRuns, 'recovery_fast');
      result.recovery_fast = f.section;
    }
  }
  if (opts.only.has('scaling')) {
    result.scaling = await scaling();
    // The JavaScript heap limit of every TaskManager: Node's default for this machine's memory.
    result.scaling.setup.tm_memory = `node default heap limit (${round((await import('node:v8')).getHeapStatistics().heap_size_limit / 2 ** 20)} MB)`;
  }
  result.machine = machineReport();
  result.peak_rss_mb = round(rss.overall);
  result.peak_rss_mb_by_phase = Object.fromEntries(Object.entries(rss.byPhase).filter(([k]) => k !== 'idle').map(([k, v]) => [k, round(v)]));
  result.summary = {
    startup_ms: result.startup_ms,
    throughput_rps_no_checkpoint: result.throughput.no_checkpoint?.records_per_s ?? null,
    throughput_rps_checkpoint_1s: result.throughput.checkpoint_1s?.records_per_s ?? null,
    checkpoint_1m_keys_duration_ms_median: result.checkpoint_1m_keys?.duration_ms_median ?? null,
    checkpoint_1m_keys_duration_ms_max: result.checkpoint_1m_keys?.duration_ms_max ?? null,
    recovery_kill_to_running_ms: result.recovery?.kill_to_running_ms_median ?? null,
    recovery_kill_to_first_output_ms: result.recovery?.kill_to_first_output_ms_median ?? null,
    peak_rss_mb: result.peak_rss_mb,
    recovery_fast_kill_to_running_ms: result.recovery_fast?.kill_to_running_ms_median ?? null,
    recovery_fast_kill_to_first_output_ms: result.recovery_fast?.kill_to_first_output_ms_median ?? null,
    ...scalingSummary(result.scaling),
  };
  result.finished_at = new Date().toISOString();
  if (opts.out) fs.writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().then(() => {
  killAllSync();
  cleanupTmp();
  process.exit(0);
}, (e) => {
  log(`error: ${e.stack ?? e}`);
  killAllSync();
  if (!opts.keepTmp) { cleanupTmp(); log('(re-run with --keep-tmp to keep the cluster logs)'); } else log(`logs kept in ${tmpRoot}`);
  process.exit(1);
});

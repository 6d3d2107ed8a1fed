#!/usr/bin/env node
// JobManager CPU per checkpoint (issue 10, finding 5): one cluster per parallelism runs the
// keyed sum slowly (so the data path is small) with a checkpoint every --interval-ms; the
// JobManager's utime+stime over consecutive windows, divided by the checkpoints completed in
// each window (less a baseline of the same job without checkpoints), shows what a checkpoint costs the JobManager and whether that grows as the
// statistics history grows. WEIR_BENCH_BUNDLE=/path/to/weir.cjs measures another build.
// Prints a table on stdout (progress on stderr) and, as the last stdout line, one JSON object.

import path from 'node:path';
import {
  emitResult, runBenchmark, EXAMPLES, WeirCluster, ensureBuilt, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  parseArgv, round, sleep, startSampling, weirVersion, WEIR,
} from './lib/common.mjs';
import { pidJiffies } from './lib/proc.mjs';

const USAGE = `usage: node scripts/bench/jobmanager-checkpoint-cpu.mjs [options]
  --parallelism LIST   comma-separated parallelisms (default 2,8)
  --interval-ms N      checkpoint interval (default 100)
  --warmup-s N         before the first window (default 10)
  --window-s N         length of each window (default 20)
  --windows N          consecutive windows per parallelism (default 3)
  --rate N             records per second of the job (default 2000)
  --no-build  --keep-tmp  --out FILE`;
const o = parseArgv(process.argv.slice(2), ['no-build', 'keep-tmp'], USAGE);
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const opts = {
  parallelisms: String(o.parallelism ?? '2,8').split(',').map(Number), intervalMs: num('interval-ms', 100), warmupS: num('warmup-s', 10),
  windowS: num('window-s', 20), windows: num('windows', 3), rate: num('rate', 2000), build: !o['no-build'] && !process.env.WEIR_BENCH_BUNDLE, keepTmp: !!o['keep-tmp'], out: o.out,
};
const log = makeLogger('jm-checkpoint-cpu');
installExitHandlers(log);
const JIFFY_MS = 10; // USER_HZ is 100 on Linux

async function measure(root, parallelism) {
  const slots = Math.ceil(parallelism / 2);
  const cl = new WeirCluster(root, `p${parallelism}`, 2, { 'execution.checkpointing.tolerable-failed-checkpoints': 2147483647 }, { log, slots });
  const windows = [];
  let baseline = 0;
  try {
    await cl.start();
    // Baseline: the same job without checkpoints (heartbeats, metrics, task states).
    const baseJob = await cl.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [path.join(cl.dir, 'out-base'), '1000000000', '100', String(opts.rate), '0'], parallelism);
    await cl.waitRunning(baseJob);
    await sleep(Math.min(opts.warmupS, 5) * 1000);
    const b0 = pidJiffies(cl.jmPid);
    await sleep(opts.windowS * 1000);
    baseline = ((pidJiffies(cl.jmPid) - b0) * JIFFY_MS) / opts.windowS; // JobManager CPU ms per second
    log(`p=${parallelism} baseline without checkpoints: JobManager ${round(baseline, 1)} ms CPU per second`);
    await cl.cancel(baseJob);
    const out = path.join(cl.dir, 'out');
    const jobId = await cl.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, '1000000000', '100', String(opts.rate), String(opts.intervalMs)], parallelism);
    await cl.waitRunning(jobId);
    await sleep(opts.warmupS * 1000);
    let c0 = (await cl.checkpoints(jobId)).completed;
    let j0 = pidJiffies(cl.jmPid);
    for (let w = 0; w < opts.windows; w++) {
      await sleep(opts.windowS * 1000);
      const c1 = (await cl.checkpoints(jobId)).completed;
      const j1 = pidJiffies(cl.jmPid);
      const checkpoints = c1 - c0;
      const cpuMs = (j1 - j0) * JIFFY_MS;
      const net = cpuMs - baseline * opts.windowS;
      windows.push({
        completed_before: c0, checkpoints, jm_cpu_ms: cpuMs, jm_cpu_ms_per_checkpoint: checkpoints ? round(cpuMs / checkpoints, 2) : null,
        jm_cpu_ms_per_checkpoint_above_baseline: checkpoints ? round(net / checkpoints, 2) : null, jm_core_share_percent: round((cpuMs / (opts.windowS * 1000)) * 100, 1),
      });
      log(`p=${parallelism} window ${w + 1}: ${checkpoints} checkpoints (history ${c0} before), JobManager ${cpuMs} ms CPU = ${windows.at(-1).jm_cpu_ms_per_checkpoint} ms per checkpoint, ${windows.at(-1).jm_cpu_ms_per_checkpoint_above_baseline} above the baseline`);
      c0 = c1;
      j0 = j1;
    }
    await cl.cancel(jobId);
  } finally {
    await cl.stop();
  }
  return { baseline_jm_cpu_ms_per_s: round(baseline, 1), windows };
}

async function main() {
  ensureBuilt(log, opts.build);
  startSampling();
  const root = makeTmpRoot('weir-bench-jmcpu-', opts.keepTmp);
  const result = { system: 'weir', benchmark: 'jobmanager-checkpoint-cpu', bundle: WEIR, weir_version: weirVersion(), node_version: process.versions.node, started_at: new Date().toISOString(), setup: { ...opts, build: undefined } };
  result.runs = {};
  for (const p of opts.parallelisms) result.runs[`p${p}`] = await measure(root, p);
  result.machine = machineReport();
  const rows = [['parallelism', 'window', 'history before', 'checkpoints', 'JM CPU ms', 'JM CPU ms/checkpoint', 'above baseline', 'JM % of a core']];
  for (const [p, run] of Object.entries(result.runs)) {
    run.windows.forEach((w, i) => rows.push([p.slice(1), i + 1, w.completed_before, w.checkpoints, w.jm_cpu_ms, w.jm_cpu_ms_per_checkpoint, w.jm_cpu_ms_per_checkpoint_above_baseline, `${w.jm_core_share_percent} %`]));
    rows.push([p.slice(1), 'baseline', '', '', `${run.baseline_jm_cpu_ms_per_s} ms/s`, '', '', '']);
  }
  emitResult(rows, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

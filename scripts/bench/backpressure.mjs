#!/usr/bin/env node
// Checkpoints under backpressure (issue 11). One cluster (JM + 2 TMs, 1 slot each) runs
// packages/examples/src/bench-backpressure.ts (source p=2 -> rebalance -> sink p=1 at
// 1-2 ms per record, checkpoint every 1 s, timeout 10 s) once per mode: aligned, aligned
// with buffer debloating, unaligned. Per mode it prints completed/expired checkpoints,
// p50/p99 of end-to-end duration and of alignment, in-flight bytes stored and failovers.
// --throughput adds the cost of unaligned checkpoints without backpressure: records/s of
// bench-throughput.ts with aligned and with unaligned checkpoints, as a ratio.
// Progress on stderr; a table, then one JSON line, on stdout.
//
//   node scripts/bench/backpressure.mjs                          # 60 s per mode
//   node scripts/bench/backpressure.mjs --modes unaligned --duration-s 600 --sink-ms 1-4

import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  EXAMPLES, WEIR, WeirCluster, emitResult, ensureBuilt, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  measureThroughput, parseArgv, round, runBenchmark, sleep, startSampling,
} from './lib/common.mjs';

const USAGE = `usage: node scripts/bench/backpressure.mjs [options]
  --modes LIST         comma-separated: aligned,debloat,unaligned (default all three; none with --throughput)
  --duration-s N       seconds per mode after warm-up (default 60)
  --warmup-s N         seconds before measuring (default 5)
  --sink-ms A-B        sink time per record, uniform in [A, B] ms (default 1-2)
  --interval-ms N      checkpoint interval (default 1000)
  --timeout-ms N       checkpoint timeout (default 10000)
  --throughput         also measure unaligned vs aligned on bench-throughput.ts (no backpressure)
  --window-s N         throughput window (default 20)
  --rounds N           throughput: alternate aligned/unaligned this many times (default 3)
  --no-build  --keep-tmp  --out FILE`;
const o = parseArgv(process.argv.slice(2), ['no-build', 'keep-tmp', 'throughput'], USAGE);
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const [sinkMin, sinkMax] = String(o['sink-ms'] ?? '1-2').split('-').map(Number);
const opts = {
  modes: String(o.modes ?? 'aligned,debloat,unaligned').split(',').filter((m) => m && m !== 'none'),
  durationS: num('duration-s', 60), warmupS: num('warmup-s', 5), sinkMin, sinkMax: sinkMax ?? sinkMin,
  intervalMs: num('interval-ms', 1000), timeoutMs: num('timeout-ms', 10000), throughput: !!o.throughput, windowS: num('window-s', 20), rounds: num('rounds', 3),
  build: !o['no-build'], keepTmp: !!o['keep-tmp'], out: o.out,
};
const MODES = {
  aligned: {},
  debloat: { 'taskmanager.network.memory.buffer-debloat.enabled': 'true' },
  unaligned: { 'execution.checkpointing.unaligned.enabled': 'true' },
};
const log = makeLogger('backpressure');
installExitHandlers(log);

function submit(cl, job, args, defines) {
  const d = Object.entries(defines).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  const r = spawnSync(process.execPath, [WEIR, 'run', job, '--detached', '-p', '2', '--jobmanager', cl.address, ...d, '--', ...args], { cwd: cl.dir, encoding: 'utf8', timeout: 120000 });
  const id = /JobID ([0-9a-f]{32})/.exec(r.stdout ?? '')?.[1];
  if (r.status !== 0 || !id) throw new Error(`weir run failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  return id;
}

const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

async function runMode(cl, mode) {
  const defines = { ...MODES[mode], 'execution.checkpointing.timeout': opts.timeoutMs };
  const job = path.join(EXAMPLES, 'bench-backpressure.ts');
  const id = submit(cl, job, [String(opts.sinkMin), String(opts.sinkMax), String(opts.intervalMs)], defines);
  log(`${mode}: job ${id}, warm-up ${opts.warmupS} s, measuring ${opts.durationS} s`);
  await cl.waitRunning(id);
  await sleep(opts.warmupS * 1000);
  const t0 = Date.now();
  const before = await cl.getJob(id);
  const load = [];
  for (let s = 0; s < opts.durationS; s += 10) {
    await sleep(Math.min(10, opts.durationS - s) * 1000);
    load.push(os.loadavg()[0]);
  }
  const t1 = Date.now();
  const after = await cl.getJob(id);
  const c = await cl.checkpoints(id);
  await cl.cancel(id);
  const inWindow = (c.history ?? []).filter((h) => h.trigger_timestamp >= t0 && h.trigger_timestamp < t1);
  const done = inWindow.filter((h) => h.status === 'COMPLETED');
  const failed = inWindow.filter((h) => h.status === 'FAILED');
  const expired = failed.filter((h) => /expired|timed? ?out|timeout/i.test(h.failure_reason));
  const durations = done.map((h) => Number(h.end_to_end_duration_ms));
  const alignments = done.map((h) => Number(h.max_alignment_ms));
  const inflight = done.map((h) => Number(h.persisted_data_bytes ?? 0));
  const sinkRecords = (j) => j.vertices.find((v) => /slow-sink/.test(v.name))?.subtasks.reduce((a, s) => a + Number(s.records_in || 0), 0) ?? 0;
  return {
    mode, completed: done.length, failed: failed.length, expired: expired.length,
    failure_reasons: [...new Set(failed.map((h) => h.failure_reason))].slice(0, 3),
    duration_ms_p50: pct(durations, 50), duration_ms_p99: pct(durations, 99), duration_ms_max: durations.length ? Math.max(...durations) : null,
    alignment_ms_p50: pct(alignments, 50), alignment_ms_p99: pct(alignments, 99),
    inflight_bytes_p50: pct(inflight, 50), inflight_bytes_max: inflight.length ? Math.max(...inflight) : null,
    failovers: Number(after.summary.restarts ?? 0) - Number(before.summary.restarts ?? 0),
    sink_records_per_s: round(((sinkRecords(after) - sinkRecords(before)) * 1000) / (t1 - t0)),
    load_avg_1m: round(load.reduce((a, b) => a + b, 0) / load.length, 1),
  };
}

async function throughputCost(cl) {
  // Paired, alternating rounds: on a shared machine the load drifts more than the cost.
  const job = path.join(EXAMPLES, 'bench-throughput.ts');
  const rps = { aligned: [], unaligned: [] };
  for (let r = 0; r < opts.rounds; r++) {
    for (const mode of r % 2 === 0 ? ['aligned', 'unaligned'] : ['unaligned', 'aligned']) {
      const statsDir = path.join(cl.dir, `stats-${mode}-${r}`);
      const id = submit(cl, job, [statsDir, '10000', String(opts.intervalMs)], MODES[mode]);
      const t = await measureThroughput(cl, id, { warmupS: opts.warmupS, windowS: opts.windowS, statsDir, log });
      rps[mode].push(round(t.rps));
      await cl.cancel(id);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const ratios = rps.aligned.map((a, i) => round(rps.unaligned[i] / a, 3));
  return {
    aligned_records_per_s: med(rps.aligned), unaligned_records_per_s: med(rps.unaligned), ratio_unaligned_to_aligned: med(ratios),
    ratios_per_round: ratios, runs: rps, load_avg_1m: round(os.loadavg()[0], 1),
  };
}

async function main() {
  ensureBuilt(log, opts.build);
  startSampling();
  const root = makeTmpRoot('weir-bench-bp-', opts.keepTmp);
  const cl = new WeirCluster(root, 'cluster', 2, {}, { log });
  const result = { benchmark: 'backpressure', started_at: new Date().toISOString(), setup: { ...opts, build: undefined }, modes: [] };
  try {
    await cl.start();
    for (const mode of opts.modes) {
      if (!MODES[mode]) throw new Error(`unknown mode ${mode} (aligned, debloat, unaligned)`);
      const m = await runMode(cl, mode);
      log(`${mode}: ${JSON.stringify(m)}`);
      result.modes.push(m);
    }
    if (opts.throughput) {
      result.throughput = await throughputCost(cl);
      log(`throughput: ${JSON.stringify(result.throughput)}`);
    }
  } finally {
    await cl.stop();
  }
  result.machine = machineReport();
  result.finished_at = new Date().toISOString();
  const rows = [['mode', 'completed', 'expired', 'failed', 'p50 ms', 'p99 ms', 'align p50', 'align p99', 'in-flight B p50', 'failovers', 'sink rec/s', 'load']];
  for (const m of result.modes) {
    rows.push([m.mode, m.completed, m.expired, m.failed, m.duration_ms_p50 ?? '-', m.duration_ms_p99 ?? '-', m.alignment_ms_p50 ?? '-', m.alignment_ms_p99 ?? '-', m.inflight_bytes_p50 ?? '-', m.failovers, m.sink_records_per_s, m.load_avg_1m]);
  }
  if (result.throughput) {
    const t = result.throughput;
    rows.push(['throughput aligned', t.aligned_records_per_s, '', '', '', '', '', '', '', '', '', t.load_avg_1m]);
    rows.push(['throughput unaligned', t.unaligned_records_per_s, `ratio ${t.ratio_unaligned_to_aligned} (median of ${t.ratios_per_round.join(', ')})`, '', '', '', '', '', '', '', '', '']);
  }
  emitResult(rows, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

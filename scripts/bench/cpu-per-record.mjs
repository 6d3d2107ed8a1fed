#!/usr/bin/env node
// TaskManager CPU time per record of bench-throughput.ts, beside its records/s. On a busy
// shared machine records/s mostly measures how much of the cores the cluster got; CPU time
// per record (utime + stime of the TaskManager processes over the window, divided by the
// records the sum operator read) measures what the code costs, and is what to compare
// between two builds. Still noisy (caches, frequency): run it a few times.
//
//   node scripts/bench/cpu-per-record.mjs [--keys 10000] [--checkpoint-ms 0] [--warmup-s 5]
//                                         [--window-s 15] [--rounds 1] [--no-build]

import os from 'node:os';
import path from 'node:path';
import {
  EXAMPLES, WeirCluster, cleanupTmp, ensureBuilt, installExitHandlers, killAllSync, makeLogger, makeTmpRoot, parseArgv, sleep,
} from './lib/common.mjs';
import { pidJiffies } from './lib/proc.mjs';

const USAGE = 'usage: node scripts/bench/cpu-per-record.mjs [--keys N] [--checkpoint-ms N] [--warmup-s N] [--window-s N] [--rounds N] [--no-build]';
const o = parseArgv(process.argv.slice(2), ['no-build'], USAGE);
const opts = {
  keys: Number(o.keys ?? 10000), checkpointMs: Number(o['checkpoint-ms'] ?? 0), warmupS: Number(o['warmup-s'] ?? 5),
  windowS: Number(o['window-s'] ?? 15), rounds: Number(o.rounds ?? 1), build: !o['no-build'],
};
const log = makeLogger('cpu-per-record');
installExitHandlers(log);
const JIFFY_US = 1e6 / 100; // USER_HZ is 100 on Linux

async function recordsIn(cl, jobId) {
  const j = await cl.getJob(jobId);
  const v = j.vertices.find((x) => /sum/i.test(x.name)) ?? j.vertices[j.vertices.length - 1];
  return v.subtasks.reduce((a, s) => a + Number(s.records_in || 0), 0);
}

function tmJiffies(cl) {
  let sum = 0;
  for (const pid of cl.tmPids) sum += pidJiffies(pid) ?? 0;
  return sum;
}

async function round(root, n) {
  const cl = new WeirCluster(root, `round-${n}`, 2, {}, { log });
  try {
    await cl.start();
    const statsDir = path.join(cl.dir, 'stats');
    const jobId = await cl.submit(path.join(EXAMPLES, 'bench-throughput.ts'), [statsDir, String(opts.keys), String(opts.checkpointMs)]);
    await cl.waitRunning(jobId);
    await sleep(opts.warmupS * 1000);
    const r0 = await recordsIn(cl, jobId);
    const j0 = tmJiffies(cl);
    const t0 = performance.now();
    await sleep(opts.windowS * 1000);
    const r1 = await recordsIn(cl, jobId);
    const j1 = tmJiffies(cl);
    const seconds = (performance.now() - t0) / 1000;
    const records = r1 - r0;
    const result = {
      records_per_s: Math.round(records / seconds),
      tm_cpu_us_per_record: records > 0 ? Number((((j1 - j0) * JIFFY_US) / records).toFixed(3)) : null,
      tm_cores_used: Number((((j1 - j0) / 100) / seconds).toFixed(2)),
      loadavg_1m: Number(os.loadavg()[0].toFixed(1)),
    };
    log(`round ${n}: ${JSON.stringify(result)}`);
    await cl.cancel(jobId);
    return result;
  } finally {
    await cl.stop();
  }
}

async function main() {
  ensureBuilt(log, opts.build);
  const root = makeTmpRoot('weir-bench-cpu-', false);
  const results = [];
  try {
    for (let n = 1; n <= opts.rounds; n++) results.push(await round(root, n));
  } finally {
    cleanupTmp(root, false);
  }
  const us = results.map((r) => r.tm_cpu_us_per_record).filter((v) => v != null).sort((a, b) => a - b);
  console.log(JSON.stringify({ keys: opts.keys, checkpoint_ms: opts.checkpointMs, window_s: opts.windowS, rounds: results, median_tm_cpu_us_per_record: us[Math.floor(us.length / 2)] ?? null }));
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  killAllSync();
  process.exit(1);
});

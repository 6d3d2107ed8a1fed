#!/usr/bin/env node
// CPU profile of the TaskManagers while they run bench-throughput.ts: a Weir cluster
// (JM + 2 TMs, 1 slot each) whose TaskManagers run under `node --cpu-prof` (slots are
// worker threads; --cpu-prof profiles them too), the job runs for --seconds, then the TMs
// are stopped with SIGTERM so the profiles get written, and the .cpuprofile files are
// summarised by self time per function (see lib/cpuprofile.mjs).
//
//   node scripts/bench/profile.mjs [--keys 10000] [--checkpoint-ms 0] [--seconds 20]
//                                  [--dir DIR] [--top 15] [--no-build]

import fs from 'node:fs';
import path from 'node:path';
import {
  EXAMPLES, WeirCluster, cleanupTmp, ensureBuilt, installExitHandlers, killAllSync, makeLogger, makeTmpRoot, parseArgv, sleep,
} from './lib/common.mjs';
import { summarise, formatSummary } from './lib/cpuprofile.mjs';

const USAGE = 'usage: node scripts/bench/profile.mjs [--keys N] [--checkpoint-ms N] [--seconds N] [--dir DIR] [--top N] [--no-build]';
const o = parseArgv(process.argv.slice(2), ['no-build'], USAGE);
const opts = {
  keys: Number(o.keys ?? 10000), checkpointMs: Number(o['checkpoint-ms'] ?? 0), seconds: Number(o.seconds ?? 20), top: Number(o.top ?? 15),
  dir: path.resolve(o.dir ?? `/tmp/weir-cpuprof-${Date.now()}`), build: !o['no-build'],
};
const log = makeLogger('profile');
installExitHandlers(log);

async function main() {
  ensureBuilt(log, opts.build);
  fs.mkdirSync(opts.dir, { recursive: true });
  const root = makeTmpRoot('weir-bench-prof-', false);
  const cl = new WeirCluster(root, 'cluster', 2, {}, { log, tmNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${opts.dir}`] });
  try {
    await cl.start();
    const statsDir = path.join(cl.dir, 'stats');
    const jobId = await cl.submit(path.join(EXAMPLES, 'bench-throughput.ts'), [statsDir, String(opts.keys), String(opts.checkpointMs)]);
    await cl.waitRunning(jobId);
    log(`profiling for ${opts.seconds} s`);
    await sleep(opts.seconds * 1000);
    await cl.cancel(jobId);
  } finally {
    await cl.stop(); // SIGTERM: the TaskManagers exit normally and write their profiles
  }
  const files = fs.readdirSync(opts.dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(opts.dir, f));
  log(`${files.length} profiles in ${opts.dir}`);
  const s = summarise(files);
  process.stdout.write(formatSummary(s, opts.top) + '\n');
  process.stdout.write(JSON.stringify({ dir: opts.dir, files: files.map((f) => path.basename(f)), total_ms: s.totalMs, top: s.top.slice(0, opts.top) }) + '\n');
}

main().then(() => { killAllSync(); cleanupTmp(); process.exit(0); }, (e) => { log(`error: ${e.stack ?? e}`); killAllSync(); cleanupTmp(); process.exit(1); });

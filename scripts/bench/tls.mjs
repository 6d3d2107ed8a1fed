#!/usr/bin/env node
// The cost of security (issue 12): throughput of packages/examples/src/bench-throughput.ts
// (10,000 keys, unthrottled, parallelism 2 on 2 TaskManagers, so half the records cross
// TaskManagers) on a plaintext cluster and on a cluster made by `weir security init`
// (mutual TLS on every gRPC connection, HTTPS REST, token). Rounds alternate the order
// (plain, tls), (tls, plain), ... so that a noisy machine hits both alike; the figure is
// the median of the paired ratios tls/plain. Prints a table and, last, one JSON line.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  emitResult, runBenchmark, EXAMPLES, WEIR, WeirCluster, ensureBuilt, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  measureThroughput, median, parseArgv, round, weirVersion,
} from './lib/common.mjs';

const USAGE = `usage: node scripts/bench/tls.mjs [options]
  --quick              warm-up 5 s, window 10 s, 2 rounds (default warm-up 10 s, window 20 s, 3 rounds)
  --warmup-s N  --window-s N  --rounds N
  --keys N             keys (default 10000)
  --interval-ms N      checkpoint interval, 0 = off (default 0)
  --no-build  --keep-tmp  --out FILE`;
const o = parseArgv(process.argv.slice(2), ['quick', 'no-build', 'keep-tmp'], USAGE);
const quick = !!o.quick;
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const opts = {
  warmupS: num('warmup-s', quick ? 5 : 10), windowS: num('window-s', quick ? 10 : 20), rounds: num('rounds', quick ? 2 : 3),
  keys: num('keys', 10000), intervalMs: num('interval-ms', 0), build: !o['no-build'], keepTmp: !!o['keep-tmp'], out: o.out,
};
const log = makeLogger('tls');
installExitHandlers(log);
const JOB = path.join(EXAMPLES, 'bench-throughput.ts');

async function measure(root, label, security, n) {
  const cl = new WeirCluster(root, `${label}-${n}`, 2, {}, { log, security });
  try {
    await cl.start();
    const statsDir = path.join(cl.dir, 'stats');
    const jobId = await cl.submit(JOB, [statsDir, String(opts.keys), String(opts.intervalMs)]);
    const t = await measureThroughput(cl, jobId, { warmupS: opts.warmupS, windowS: opts.windowS, statsDir, log });
    await cl.cancel(jobId);
    return t.rps;
  } finally {
    await cl.stop();
  }
}

async function main() {
  ensureBuilt(log, opts.build);
  const root = makeTmpRoot('weir-bench-tls-', opts.keepTmp);
  const security = path.join(root, 'security');
  const init = spawnSync(process.execPath, [WEIR, 'security', 'init', security], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`weir security init failed: ${init.stderr}`);
  const rounds = [];
  for (let r = 0; r < opts.rounds; r++) {
    const order = r % 2 === 0 ? ['plain', 'tls'] : ['tls', 'plain'];
    const round_ = {};
    for (const label of order) round_[label] = await measure(root, label, label === 'tls' ? security : undefined, r);
    round_.ratio = round_.tls / round_.plain;
    log(`round ${r + 1}: plain ${Math.round(round_.plain)} records/s, tls ${Math.round(round_.tls)} records/s, tls/plain ${round_.ratio.toFixed(3)}`);
    rounds.push(round_);
  }
  const ratio = median(rounds.map((x) => x.ratio));
  const result = {
    system: 'weir', benchmark: 'tls', weir_version: weirVersion(), node_version: process.versions.node, started_at: new Date().toISOString(),
    machine: machineReport(), setup: { ...opts, build: undefined },
    plain_records_per_s_median: round(median(rounds.map((x) => x.plain))), tls_records_per_s_median: round(median(rounds.map((x) => x.tls))),
    tls_over_plain_paired_median: round(ratio, 3), cost_percent: round((1 - ratio) * 100, 1),
    rounds: rounds.map((x) => ({ plain: round(x.plain), tls: round(x.tls), ratio: round(x.ratio, 3) })),
  };
  const rows = [['round', 'plaintext records/s', 'TLS + token records/s', 'TLS / plaintext'],
    ...rounds.map((x, i) => [i + 1, round(x.plain), round(x.tls), x.ratio.toFixed(3)]),
    ['median', result.plain_records_per_s_median, result.tls_records_per_s_median, `${ratio.toFixed(3)} (cost ${result.cost_percent} %)`]];
  emitResult(rows, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

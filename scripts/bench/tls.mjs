#!/usr/bin/env node
// The cost of security (issue 12): throughput of packages/examples/src/bench-throughput.ts
// (10,000 keys, unthrottled, parallelism 2 on 2 TaskManagers, so half the records cross
// TaskManagers) on a plaintext cluster and on a cluster made by `weir security init`
// (mutual TLS on every gRPC connection, HTTPS REST, token). Rounds alternate the order
// (plain, tls), (tls, plain), ... so that a noisy machine hits both alike; the figure is
// the median of the paired ratios tls/plain. Because records/s on a shared machine follow
// the other work more than TLS, each run also measures CPU time per record (utime + stime
// of the JobManager and TaskManagers over a second window, from /proc), which contention
// moves far less. Prints a table and, last, one JSON line.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pidJiffies } from './lib/proc.mjs';
import {
  countAt, readCounts, sleep, emitResult, runBenchmark, EXAMPLES, WEIR, WeirCluster, ensureBuilt, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  measureThroughput, median, parseArgv, round, startSampling, weirVersion,
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
    // Second window: CPU the cluster spent per record (jiffies are 10 ms on Linux).
    const pids = [cl.jmPid, ...cl.tmPids];
    const jiffies = () => pids.reduce((a, p) => a + (pidJiffies(p) ?? 0), 0);
    const j0 = jiffies();
    const tA = Date.now();
    await sleep(opts.windowS * 1000);
    const j1 = jiffies();
    const tB = Date.now();
    await sleep(400);
    const series = readCounts(statsDir);
    const records = countAt(series, tB) - countAt(series, tA);
    const cpuUsPerRecord = records > 0 ? ((j1 - j0) * 10_000) / records : null;
    log(`${label}: ${Math.round(t.rps)} records/s, ${cpuUsPerRecord?.toFixed(3)} CPU µs per record`);
    await cl.cancel(jobId);
    return { rps: t.rps, cpuUsPerRecord };
  } finally {
    await cl.stop();
  }
}

async function main() {
  ensureBuilt(log, opts.build);
  startSampling(); // machineReport() reads the CPU shares it samples
  const root = makeTmpRoot('weir-bench-tls-', opts.keepTmp);
  const security = path.join(root, 'security');
  const init = spawnSync(process.execPath, [WEIR, 'security', 'init', security], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`weir security init failed: ${init.stderr}`);
  const rounds = [];
  for (let r = 0; r < opts.rounds; r++) {
    const order = r % 2 === 0 ? ['plain', 'tls'] : ['tls', 'plain'];
    const m = {};
    for (const label of order) m[label] = await measure(root, label, label === 'tls' ? security : undefined, r);
    const round_ = { plain: m.plain.rps, tls: m.tls.rps, ratio: m.tls.rps / m.plain.rps, plainCpu: m.plain.cpuUsPerRecord, tlsCpu: m.tls.cpuUsPerRecord };
    round_.cpuRatio = round_.tlsCpu / round_.plainCpu;
    log(`round ${r + 1}: plain ${Math.round(round_.plain)} records/s, tls ${Math.round(round_.tls)} records/s, tls/plain ${round_.ratio.toFixed(3)}; CPU per record tls/plain ${round_.cpuRatio.toFixed(3)}`);
    rounds.push(round_);
  }
  const ratio = median(rounds.map((x) => x.ratio));
  const cpuRatio = median(rounds.map((x) => x.cpuRatio));
  const result = {
    system: 'weir', benchmark: 'tls', weir_version: weirVersion(), node_version: process.versions.node, started_at: new Date().toISOString(),
    machine: machineReport(), setup: { ...opts, build: undefined },
    plain_records_per_s_median: round(median(rounds.map((x) => x.plain))), tls_records_per_s_median: round(median(rounds.map((x) => x.tls))),
    tls_over_plain_paired_median: round(ratio, 3), cost_percent: round((1 - ratio) * 100, 1),
    cpu_per_record_tls_over_plain_paired_median: round(cpuRatio, 3), cpu_cost_percent: round((cpuRatio - 1) * 100, 1),
    rounds: rounds.map((x) => ({ plain: round(x.plain), tls: round(x.tls), ratio: round(x.ratio, 3), plain_cpu_us_per_record: round(x.plainCpu, 3), tls_cpu_us_per_record: round(x.tlsCpu, 3), cpu_ratio: round(x.cpuRatio, 3) })),
  };
  const rows = [['round', 'plaintext records/s', 'TLS + token records/s', 'TLS / plaintext', 'CPU µs/record plain', 'CPU µs/record TLS', 'CPU TLS / plain'],
    ...rounds.map((x, i) => [i + 1, round(x.plain), round(x.tls), x.ratio.toFixed(3), x.plainCpu?.toFixed(3), x.tlsCpu?.toFixed(3), x.cpuRatio.toFixed(3)]),
    ['median', result.plain_records_per_s_median, result.tls_records_per_s_median, `${ratio.toFixed(3)} (cost ${result.cost_percent} %)`, '', '', `${cpuRatio.toFixed(3)} (cost ${result.cpu_cost_percent} %)`]];
  emitResult(rows, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

#!/usr/bin/env node
// Savepoints (issue 13), on one Weir cluster (JM + 2 TMs, 1 slot each, parallelism 2):
//   - savepoint duration with 1,000,000 keys of keyed state: packages/examples/src/bench-throughput.ts
//     runs unthrottled until every key holds state, then `weir savepoint` and `weir checkpoint`
//     alternate --runs times; for each, end_to_end_duration_ms from `weir checkpoints --json`
//     (trigger to metadata written) and the CLI's wall time (process start to exit);
//   - time from `weir run -s <savepoint>` to the first output: bench-recovery.ts (the same
//     pipeline and uids, a sink that writes a timestamped line per record) is started from the
//     savepoint --runs times; measured from the CLI's start to the submission, to every task
//     RUNNING (GetJob every 20 ms) and to the first line in its sink files.
// Table on stdout, progress on stderr, last stdout line JSON.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  emitResult, runBenchmark, sleep,
  EXAMPLES, WEIR, WeirCluster, ensureBuilt, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  max, median, parseArgv, readCounts, round, rss, startSampling, weirVersion,
} from './lib/common.mjs';
import { firstSinkLineAfter } from './lib/sink-files.mjs';

const USAGE = `usage: node scripts/bench/savepoint.mjs [options]
  --keys N      keys of keyed state (default 1000000)
  --runs N      savepoints, checkpoints and restores each (default 3, quick 1)
  --quick
  --no-build  --keep-tmp  --out FILE`;
const o = parseArgv(process.argv.slice(2), ['quick', 'no-build', 'keep-tmp'], USAGE);
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const opts = { keys: num('keys', 1_000_000), runs: num('runs', o.quick ? 1 : 3), build: !o['no-build'], keepTmp: !!o['keep-tmp'], out: o.out };
const log = makeLogger('savepoint');
installExitHandlers(log);

/** Runs the CLI against the cluster; returns its output and wall time. */
function cli(cl, args) {
  const t0 = Date.now();
  // Options go before a `--` that starts the job's own arguments.
  const split = args.indexOf('--');
  const full = split < 0 ? [...args, '--jobmanager', cl.address] : [...args.slice(0, split), '--jobmanager', cl.address, ...args.slice(split)];
  const r = spawnSync(process.execPath, [WEIR, ...full], { cwd: cl.dir, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`weir ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { stdout: r.stdout, t0, ms: Date.now() - t0 };
}

async function main() {
  ensureBuilt(log, opts.build);
  startSampling();
  const root = makeTmpRoot('weir-bench-savepoint-', opts.keepTmp);
  const cl = new WeirCluster(root, 'cluster', 2, { 'execution.checkpointing.timeout': '10 min' }, { log });
  const result = { system: 'weir', benchmark: 'savepoint', weir_version: weirVersion(), node_version: process.versions.node, started_at: new Date().toISOString(), setup: { ...opts, build: undefined } };
  const spDir = path.join(root, 'savepoints');
  try {
    await cl.start();
    rss.phase = 'fill_state';
    const statsDir = path.join(cl.dir, 'stats');
    const jobId = await cl.submit(path.join(EXAMPLES, 'bench-throughput.ts'), [statsDir, String(opts.keys), '0']);
    await cl.waitRunning(jobId);
    // Every key holds state once 3x as many records went through as there are keys.
    const t0 = Date.now();
    for (;;) {
      const counted = readCounts(statsDir).reduce((n, s) => n + (s.at(-1)?.c ?? 0), 0);
      if (counted >= 3 * opts.keys) break;
      if (Date.now() - t0 > 300_000) throw new Error(`only ${counted} records after 300 s`);
      await sleep(500);
    }
    log(`state filled in ${Date.now() - t0} ms`);
    rss.phase = 'snapshots';
    const savepoints = [];
    const checkpoints = [];
    for (let i = 0; i < opts.runs; i++) {
      const sp = cli(cl, ['savepoint', jobId, spDir]);
      const spPath = /Path: (\S+)/.exec(sp.stdout)[1];
      const cp = cli(cl, ['checkpoint', jobId]);
      const cpId = Number(/Checkpoint (\d+)/.exec(cp.stdout)[1]);
      const history = (await cl.checkpoints(jobId)).history;
      const s = history.find((h) => h.path === spPath);
      const c = history.find((h) => h.id === cpId);
      savepoints.push({ path: spPath, duration_ms: s.end_to_end_duration_ms, cli_ms: sp.ms, state_size_bytes: s.state_size });
      checkpoints.push({ duration_ms: c.end_to_end_duration_ms, cli_ms: cp.ms, state_size_bytes: c.state_size });
      log(`savepoint ${s.end_to_end_duration_ms} ms (CLI ${sp.ms} ms, ${round(s.state_size / 1e6, 1)} MB); checkpoint ${c.end_to_end_duration_ms} ms (CLI ${cp.ms} ms)`);
    }
    await cl.cancel(jobId);
    rss.phase = 'restore';
    const restores = [];
    const savepoint = savepoints.at(-1).path;
    for (let i = 0; i < opts.runs; i++) {
      const out = path.join(cl.dir, `restore-${i}`);
      const run = cli(cl, ['run', path.join(EXAMPLES, 'bench-recovery.ts'), '--detached', '-p', '2', '-s', savepoint, '--', out, '2000', String(opts.keys), '0']);
      const restoredId = /JobID ([0-9a-f]{32})/.exec(run.stdout)[1];
      const submitted = run.t0 + run.ms;
      const running = await cl.waitRunning(restoredId, 120_000).then(() => Date.now());
      let first = null;
      const deadline = Date.now() + 120_000;
      while (first === null && Date.now() < deadline) {
        if (fs.existsSync(out)) first = firstSinkLineAfter(out, 0);
        if (first === null) await sleep(20);
      }
      if (first === null) throw new Error('no output within 120 s of the restore');
      restores.push({ submit_ms: submitted - run.t0, running_ms: running - run.t0, first_output_ms: first - run.t0 });
      log(`restore: submitted ${submitted - run.t0} ms, running ${running - run.t0} ms, first output ${first - run.t0} ms after weir run -s`);
      await cl.cancel(restoredId);
    }
    const stat = (xs, k) => ({ median: median(xs.map((x) => x[k])), worst: max(xs.map((x) => x[k])) });
    result.savepoint = { keys: opts.keys, duration_ms: stat(savepoints, 'duration_ms'), cli_ms: stat(savepoints, 'cli_ms'), state_size_bytes: savepoints.at(-1).state_size_bytes, runs: savepoints };
    result.checkpoint = { duration_ms: stat(checkpoints, 'duration_ms'), cli_ms: stat(checkpoints, 'cli_ms'), runs: checkpoints };
    result.restore = { submit_ms: stat(restores, 'submit_ms'), running_ms: stat(restores, 'running_ms'), first_output_ms: stat(restores, 'first_output_ms'), runs: restores };
  } finally {
    rss.phase = 'idle';
    await cl.stop();
  }
  result.machine = machineReport();
  result.peak_rss_mb = round(rss.overall);
  result.finished_at = new Date().toISOString();
  const k = opts.keys.toLocaleString('en-US');
  const mw = (s) => `${s.median} / ${s.worst} ms`;
  const rows = [
    ['figure (median / worst)', 'value'],
    [`savepoint duration, ${k} keys (trigger to _metadata)`, mw(result.savepoint.duration_ms)],
    ['  weir savepoint, command start to exit', mw(result.savepoint.cli_ms)],
    [`checkpoint duration, same state (weir checkpoint)`, mw(result.checkpoint.duration_ms)],
    ['savepoint size', `${round(result.savepoint.state_size_bytes / 1e6, 1)} MB`],
    ['weir run -s: command start to job submitted', mw(result.restore.submit_ms)],
    ['weir run -s: to every task RUNNING (state read)', mw(result.restore.running_ms)],
    ['weir run -s: to first output', mw(result.restore.first_output_ms)],
    ['other processes\' CPU share', `${round(result.machine.other_cpu_share * 100)} %`],
  ];
  emitResult(rows, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

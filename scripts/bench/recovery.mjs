#!/usr/bin/env node
// Recovery time (issue 4): a Weir cluster with a spare TaskManager (JM + 3 TMs, 1 slot each,
// heartbeat 1 s / 5 s, fixed-delay restart with 0 ms delay) runs the exactly-once job
// packages/examples/src/keyed-sum.ts (throttled generator, FileSink, checkpoint every
// 200 ms). Each run kill -9s the TaskManager running sink subtask 0 and measures
//   - kill -> every subtask RUNNING in a newer attempt (GetJob over gRPC every 20 ms)
//   - kill -> first new committed output: the first `part-<subtask>-<checkpoint>` file
//     appearing in the output dir after the kill with a checkpoint id greater than the
//     restored one (its ctime: the commit is the rename)
// then starts a replacement TaskManager so a spare exists again. Median and worst over
// the runs. Table on stdout, progress on stderr, last stdout line JSON.

import path from 'node:path';
import {
  emitResult, runBenchmark,
  EXAMPLES, WeirCluster, ensureBuilt, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  max, median, parseArgv, round, rss, sleep, startSampling, waitCheckpoints, weirVersion,
} from './lib/common.mjs';
import { killAndMeasure } from './lib/recovery.mjs';
import { firstNewCommit } from './lib/sink-files.mjs';

const USAGE = `usage: node scripts/bench/recovery.mjs [options]
  --runs N              kill -9 repetitions (default 5, quick 2)
  --quick
  --rate N              records/s over both source subtasks (default 4000)
  --keys N              keys (default 100)
  --checkpoint-ms N     checkpoint interval (default 200)
  --restart-delay-ms N  fixed-delay restart delay (default 0)
  --no-build  --keep-tmp  --out FILE`;
const o = parseArgv(process.argv.slice(2), ['quick', 'no-build', 'keep-tmp'], USAGE);
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const opts = {
  runs: num('runs', o.quick ? 2 : 5), rate: num('rate', 4000), keys: num('keys', 100), checkpointMs: num('checkpoint-ms', 200),
  restartDelayMs: num('restart-delay-ms', 0), build: !o['no-build'], keepTmp: !!o['keep-tmp'], out: o.out,
};
const log = makeLogger('recovery');
installExitHandlers(log);
const JOB = path.join(EXAMPLES, 'keyed-sum.ts');

async function main() {
  ensureBuilt(log, opts.build);
  startSampling();
  const root = makeTmpRoot('weir-bench-recovery-', opts.keepTmp);
  const cl = new WeirCluster(root, 'cluster', 3, {
    'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.delay': `${opts.restartDelayMs}ms`, 'restart-strategy.fixed-delay.attempts': 100,
  }, { log });
  const result = { system: 'weir', benchmark: 'recovery', weir_version: weirVersion(), node_version: process.versions.node, started_at: new Date().toISOString(),
    setup: { job: 'keyed-sum.ts (FileSink, exactly-once)', parallelism: 2, taskmanagers: 3, slots_per_tm: 1, heartbeat_interval_ms: 1000, heartbeat_timeout_ms: 5000,
      restart_delay_ms: opts.restartDelayMs, checkpoint_interval_ms: opts.checkpointMs, rate_total: opts.rate, keys: opts.keys } };
  const runs = [];
  try {
    result.startup_ms = round(await cl.start());
    rss.phase = 'recovery';
    const outDir = path.join(cl.dir, 'out');
    const jobId = await cl.submit(JOB, [outDir, String(1e12), String(opts.keys), String(opts.rate), String(opts.checkpointMs)]);
    await cl.waitRunning(jobId);
    for (let r = 0; r < opts.runs; r++) {
      if (r > 0) {
        cl.startTm();
        await cl.waitTms(3);
        log('replacement TaskManager registered');
      }
      await waitCheckpoints(cl, jobId, 3);
      await sleep(1000);
      log(`run ${r + 1}/${opts.runs}`);
      const run = await killAndMeasure(cl, jobId, { log, firstOutput: (killT, ctx) => firstNewCommit(outDir, killT, ctx.restoredId) });
      run.kill_to_first_commit_ms = run.kill_to_first_output_ms;
      delete run.kill_to_first_output_ms;
      runs.push(run);
    }
    await cl.cancel(jobId);
  } finally {
    rss.phase = 'idle';
    await cl.stop();
  }
  const f = (k) => runs.map((x) => x[k]);
  result.runs = runs;
  result.kill_to_failure_detected_ms_median = median(f('kill_to_failure_detected_ms'));
  result.kill_to_running_ms_median = median(f('kill_to_running_ms'));
  result.kill_to_running_ms_max = max(f('kill_to_running_ms'));
  result.kill_to_first_commit_ms_median = median(f('kill_to_first_commit_ms'));
  result.kill_to_first_commit_ms_max = max(f('kill_to_first_commit_ms'));
  result.machine = machineReport();
  result.peak_rss_mb = round(rss.overall);
  result.finished_at = new Date().toISOString();
  const rows = [
    ['', 'median', 'worst', 'runs'],
    ['kill -9 -> failure detected', `${result.kill_to_failure_detected_ms_median} ms`, `${max(f('kill_to_failure_detected_ms'))} ms`, f('kill_to_failure_detected_ms').join(', ')],
    ['kill -9 -> all tasks RUNNING', `${result.kill_to_running_ms_median} ms`, `${result.kill_to_running_ms_max} ms`, f('kill_to_running_ms').join(', ')],
    ['kill -9 -> first new committed file', `${result.kill_to_first_commit_ms_median} ms`, `${result.kill_to_first_commit_ms_max} ms`, f('kill_to_first_commit_ms').join(', ')],
  ];
  emitResult(rows, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

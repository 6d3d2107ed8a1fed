#!/usr/bin/env node
// Checkpoint storage (issue 16): local disk vs an S3-compatible server (versitygw on
// loopback, started here). For each storage, one cluster (JM + 3 TMs, 1 slot each) runs
// packages/examples/src/bench-throughput.ts at parallelism 2 with a checkpoint every
// 1 s holding 10,000 and then 1,000,000 keys, and reports the checkpoint duration
// (median, worst) and the write requests (PUTs) and bytes per checkpoint from
// `weir checkpoints --json`; then the exactly-once keyed-sum.ts with a kill -9 of the
// TaskManager running sink subtask 0: kill -> all RUNNING and kill -> first new committed
// file, restoring from that storage. Table on stdout, progress on stderr, JSON last.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  emitResult, runBenchmark, EXAMPLES, ROOT, WeirCluster, checkpointStats, ensureBuilt, freePort, installExitHandlers, machineReport, makeLogger,
  makeTmpRoot, median, parseArgv, round, sleep, startSampling, waitCheckpoints, weirVersion, children,
} from './lib/common.mjs';
import { killAndMeasure } from './lib/recovery.mjs';
import { firstNewCommit } from './lib/sink-files.mjs';

const USAGE = `usage: node scripts/bench/checkpoint-storage.mjs [options]
  --window-s N     seconds of checkpoints measured per job (default 20, quick 10)
  --warmup-s N     seconds before the window (default 8, quick 5)
  --keys LIST      comma-separated key counts (default 10000,1000000)
  --storage LIST   local,s3 (default both)
  --threshold B    state.storage.fs.memory-threshold in bytes (default 20480)
  --taskmanagers N --slots N --parallelism N   cluster and job shape (default 3, 1, 2)
  --file-merging   execution.checkpointing.file-merging.enabled=true
  --no-recovery    skip the kill -9 restore measurement
  --quick  --no-build  --keep-tmp  --out FILE`;
const o = parseArgv(process.argv.slice(2), ['quick', 'no-build', 'keep-tmp', 'file-merging', 'no-recovery'], USAGE);
const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
const opts = {
  windowS: num('window-s', o.quick ? 10 : 20), warmupS: num('warmup-s', o.quick ? 5 : 8),
  keys: String(o.keys ?? '10000,1000000').split(',').map(Number), storages: String(o.storage ?? 'local,s3').split(','),
  threshold: num('threshold', 20480), taskmanagers: num('taskmanagers', 3), slots: num('slots', 1), parallelism: num('parallelism', 2),
  fileMerging: !!o['file-merging'], recovery: !o['no-recovery'], build: !o['no-build'], keepTmp: !!o['keep-tmp'], out: o.out,
};
const log = makeLogger('checkpoint-storage');
installExitHandlers(log);
const ACCESS = 'weir-bench';
const SECRET = 'weir-bench-secret';

async function startObjectStore(root) {
  const bin = execFileSync('bash', [path.join(ROOT, 'scripts/s3/ensure-s3-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1);
  const data = path.join(root, 's3-data');
  fs.mkdirSync(path.join(data, 'bench'), { recursive: true });
  const port = await freePort();
  const child = spawn(bin, ['--quiet', '--port', `127.0.0.1:${port}`, '--access', ACCESS, '--secret', SECRET, 'posix', data], { stdio: 'ignore' });
  children.set(child.pid, { name: 'versitygw', proc: child, exitCode: null, cluster: true });
  child.on('exit', (code, signal) => { const c = children.get(child.pid); if (c) c.exitCode = code ?? signal; });
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((r) => net.connect(port, '127.0.0.1').on('connect', function () { this.destroy(); r(true); }).on('error', () => r(false)));
    if (up) return { pid: child.pid, endpoint: `http://127.0.0.1:${port}` };
    await sleep(100);
  }
  throw new Error('the S3 server did not start');
}

async function main() {
  ensureBuilt(log, opts.build);
  startSampling();
  const root = makeTmpRoot('weir-bench-storage-', opts.keepTmp);
  const s3 = opts.storages.includes('s3') ? await startObjectStore(root) : undefined;
  const result = { system: 'weir', benchmark: 'checkpoint-storage', weir_version: weirVersion(), node_version: process.versions.node, started_at: new Date().toISOString(), setup: { ...opts, build: undefined }, storages: {} };
  for (const storage of opts.storages) {
    const config = {
      'execution.checkpointing.tolerable-failed-checkpoints': 1000, 'state.storage.fs.memory-threshold': opts.threshold,
      ...(opts.fileMerging ? { 'execution.checkpointing.file-merging.enabled': 'true' } : {}),
      'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.delay': '0ms', 'restart-strategy.fixed-delay.attempts': 100,
      ...(storage === 's3' ? { 'state.checkpoints.dir': 's3://bench/checkpoints', 's3.endpoint': s3.endpoint, 's3.path.style.access': 'true', 's3.access-key': ACCESS, 's3.secret-key': SECRET } : {}),
    };
    const cl = new WeirCluster(root, storage, opts.taskmanagers, config, { log, slots: opts.slots });
    const r = (result.storages[storage] = { jobs: {} });
    try {
      await cl.start();
      for (const keys of opts.keys) {
        const statsDir = path.join(cl.dir, `stats-${keys}`);
        const jobId = await cl.submit(path.join(EXAMPLES, 'bench-throughput.ts'), [statsDir, String(keys), '1000'], opts.parallelism);
        await cl.waitRunning(jobId);
        await sleep(opts.warmupS * 1000);
        const t0 = Date.now();
        await sleep(opts.windowS * 1000);
        const s = await checkpointStats(cl, jobId, t0);
        const all = await cl.checkpoints(jobId);
        const done = (all.history ?? []).filter((h) => h.status === 'COMPLETED' && h.trigger_timestamp >= t0);
        r.jobs[keys] = {
          checkpoints: s.count, failed_total: s.failed_total, duration_ms_median: s.duration_ms_median, duration_ms_max: s.duration_ms_max,
          puts_median: median(done.map((h) => Number(h.put_count ?? 0))), bytes_written_median: median(done.map((h) => Number(h.bytes_written ?? 0))), state_size_last: s.state_size_bytes_last,
        };
        log(`${storage} ${keys} keys: ${JSON.stringify(r.jobs[keys])}`);
        await cl.cancel(jobId);
      }
      if (!opts.recovery) continue;
      const outDir = path.join(cl.dir, 'out-recovery');
      const jobId = await cl.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [outDir, String(1e12), '100', '4000', '200']);
      await cl.waitRunning(jobId);
      await waitCheckpoints(cl, jobId, 3);
      await sleep(1000);
      const run = await killAndMeasure(cl, jobId, { log, firstOutput: (killT, ctx) => firstNewCommit(outDir, killT, ctx.restoredId) });
      r.recovery = { kill_to_running_ms: run.kill_to_running_ms, kill_to_first_commit_ms: run.kill_to_first_output_ms };
      await cl.cancel(jobId);
    } finally {
      await cl.stop();
    }
  }
  if (s3) try { process.kill(s3.pid, 'SIGKILL'); } catch { /* gone */ }
  result.machine = machineReport();
  result.finished_at = new Date().toISOString();
  const rows = [['', ...opts.storages]];
  for (const keys of opts.keys) {
    const k = keys.toLocaleString('en-US');
    rows.push([`${k} keys: checkpoint median / worst`, ...opts.storages.map((s) => `${result.storages[s].jobs[keys]?.duration_ms_median} / ${result.storages[s].jobs[keys]?.duration_ms_max} ms`)]);
    rows.push([`${k} keys: PUTs / bytes per checkpoint`, ...opts.storages.map((s) => `${result.storages[s].jobs[keys]?.puts_median} / ${round((result.storages[s].jobs[keys]?.bytes_written_median ?? 0) / 1e6, 2)} MB`)]);
  }
  rows.push(['kill -9 -> all RUNNING', ...opts.storages.map((s) => `${result.storages[s].recovery?.kill_to_running_ms} ms`)]);
  rows.push(['kill -9 -> first new committed file', ...opts.storages.map((s) => `${result.storages[s].recovery?.kill_to_first_commit_ms} ms`)]);
  rows.push(['load average (1 min) at the end', fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]]);
  emitResult(rows, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

#!/usr/bin/env node
// State backends (issue 15): the keyed running sum (packages/examples/src/bench-state.ts)
// on the heap (`hashmap`) and the embedded (`lmdb`) backend, full and incremental
// checkpoints, at 1M and 10M keys, with 1 % of the keys changing per checkpoint interval
// (interval = 1 % x keys / rate). Per configuration: a fresh cluster (JM + 3 TMs, 1 slot
// each, parallelism 2); the state is loaded; then over a steady window it reports
// throughput, checkpoint end-to-end p50/p99, synchronous phase p99 (over every task of
// every checkpoint), bytes written per checkpoint (checkpointed_size) and the full state
// (state_size), TaskManager RSS (peak); then kill -9 of the TaskManager running keyed
// subtask 0 and the time until every sink subtask has output again after the restore.
// Table on stdout, progress on stderr, last stdout line JSON.
//
//   node scripts/bench/state.mjs                       # the whole matrix
//   node scripts/bench/state.mjs --keys 1000000 --backends hashmap --modes full
import fs from 'node:fs';
import path from 'node:path';
import {
  emitResult, runBenchmark, EXAMPLES, WeirCluster, ensureBuilt, installExitHandlers, machineReport, makeLogger, makeTmpRoot,
  median, parseArgv, round, sleep, startSampling, tmPidOf,
} from './lib/common.mjs';

const USAGE = `usage: node scripts/bench/state.mjs [options]
  --keys LIST          comma-separated key counts (default 1000000,10000000)
  --backends LIST      hashmap,lmdb (default both)
  --modes LIST         full,incremental (default both)
  --rate N             steady records/s over both source subtasks (default 20000)
  --changed PCT        keys changed per checkpoint interval, in % (default 1)
  --checkpoints N      completed checkpoints in the steady window (default 10)
  --no-kill            skip the restore measurement
  --no-build  --keep-tmp  --out FILE`;
const o = parseArgv(process.argv.slice(2), ['no-build', 'keep-tmp', 'no-kill'], USAGE);
const list = (k, d) => String(o[k] ?? d).split(',').filter(Boolean);
const opts = {
  keys: list('keys', '1000000,10000000').map(Number), backends: list('backends', 'hashmap,lmdb'), modes: list('modes', 'full,incremental'),
  rate: Number(o.rate ?? 20000), changed: Number(o.changed ?? 1), checkpoints: Number(o.checkpoints ?? 10),
  kill: !o['no-kill'], build: !o['no-build'], keepTmp: !!o['keep-tmp'], out: o.out,
};
const log = makeLogger('state');
installExitHandlers(log);
const JOB = path.join(EXAMPLES, 'bench-state.ts');

const pct = (xs, p) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null;
};
const mb = (b) => (b == null ? null : round(b / 2 ** 20, 1));

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function waitFor(what, fn, timeoutMs, everyMs = 200) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const v = await fn();
    if (v) return v;
    await sleep(everyMs);
  }
  throw new Error(`${what} not within ${timeoutMs} ms`);
}

async function recordsIn(cl, jobId) {
  const j = await cl.getJob(jobId);
  const v = j.vertices.find((x) => /sum/i.test(x.name));
  return v.subtasks.reduce((a, s) => a + Number(s.records_in || 0), 0);
}

async function runOne(root, backend, mode, keys) {
  const intervalMs = Math.max(200, Math.round(((opts.changed / 100) * keys / opts.rate) * 1000));
  const name = `${backend}-${mode}-${keys}`;
  const cl = new WeirCluster(root, name, 3, {
    'state.backend.type': backend,
    'execution.checkpointing.incremental': mode === 'incremental',
    'state.backend.lmdb.localdir': path.join(root, name, 'lmdb'),
    'execution.checkpointing.timeout': '10min',
    'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.delay': '0ms', 'restart-strategy.fixed-delay.attempts': 100,
  }, { log });
  const row = { backend, mode, keys, rate: opts.rate, interval_ms: intervalMs };
  try {
    await cl.start();
    const stats = path.join(cl.dir, 'stats');
    const jobId = await cl.submit(JOB, [stats, String(keys), String(opts.rate), String(intervalMs)]);
    const t0 = Date.now();
    await waitFor('state loaded', () => fs.existsSync(stats) && fs.readdirSync(stats).filter((f) => f.startsWith('loaded-')).length >= 2, 30 * 60_000, 500);
    row.load_s = round((Date.now() - t0) / 1000, 1);
    log(`${name}: ${keys} keys loaded in ${row.load_s} s; checkpoint every ${intervalMs} ms`);
    // warm-up: the source catches up on the rate it missed while loading, then two checkpoints
    const caughtUp = async () => {
      const a = await recordsIn(cl, jobId);
      await sleep(2000);
      const b = await recordsIn(cl, jobId);
      return (b - a) / 2 < opts.rate * 1.2;
    };
    await waitFor('steady rate', caughtUp, 10 * 60_000, 0);
    const base = (await cl.checkpoints(jobId)).completed;
    await waitFor('warm-up checkpoints', async () => (await cl.checkpoints(jobId)).completed >= base + 2, 10 * 60_000);
    const windowStart = Date.now();
    const r0 = await recordsIn(cl, jobId);
    const tmPids = [...cl.tmPids];
    let peakRss = 0;
    const startCompleted = (await cl.checkpoints(jobId)).completed;
    await waitFor('steady checkpoints', async () => {
      for (const pid of tmPids) peakRss = Math.max(peakRss, rssMb(pid) ?? 0);
      return (await cl.checkpoints(jobId)).completed >= startCompleted + opts.checkpoints;
    }, 30 * 60_000, 250);
    const r1 = await recordsIn(cl, jobId);
    const windowMs = Date.now() - windowStart;
    row.throughput_rps = round(((r1 - r0) / windowMs) * 1000);
    const c = await cl.checkpoints(jobId);
    const done = c.history.filter((h) => h.status === 'COMPLETED' && Number(h.trigger_timestamp) >= windowStart);
    row.checkpoints = done.length;
    row.failed_checkpoints = c.failed;
    row.checkpoint_p50_ms = pct(done.map((h) => Number(h.end_to_end_duration_ms)), 50);
    row.checkpoint_p99_ms = pct(done.map((h) => Number(h.end_to_end_duration_ms)), 99);
    // every task of every checkpoint in the window (sources too: the keyed tasks dominate)
    const syncs = done.flatMap((h) => (h.tasks ?? []).map((t) => Number(t.sync_duration_ms)));
    row.sync_p99_ms = pct(syncs, 99);
    row.sync_max_ms = syncs.length ? Math.max(...syncs) : null;
    row.checkpointed_mb_p50 = mb(median(done.map((h) => Number(h.checkpointed_size ?? h.state_size))));
    row.state_mb_p50 = mb(median(done.map((h) => Number(h.state_size))));
    row.tm_rss_peak_mb = round(peakRss);
    if (opts.kill) {
      const j = await cl.getJob(jobId);
      const sum = j.vertices.find((v) => /sum/i.test(v.name));
      const victim = await tmPidOf(cl, sum.subtasks.find((s) => s.subtask === 0).taskmanager_id);
      const attempt = Math.max(...j.vertices.flatMap((v) => v.subtasks.map((s) => s.attempt)));
      const killT = Date.now();
      process.kill(victim, 'SIGKILL');
      cl.tmPids.delete(victim);
      log(`${name}: kill -9 TaskManager pid ${victim}`);
      const firsts = await waitFor('every sink subtask to output after the restore', () => {
        const files = fs.readdirSync(stats).map((f) => /^first-(\d+)-(\d+)$/.exec(f)).filter((m) => m && Number(m[2]) > attempt);
        return files.length >= 2 ? files.map((m) => Number(fs.readFileSync(path.join(stats, m[0]), 'utf8'))) : null;
      }, 10 * 60_000, 20);
      row.kill_to_first_output_ms = Math.max(...firsts) - killT;
    }
    await cl.cancel(jobId);
  } catch (e) {
    row.error = String(e.message ?? e);
    log(`${name}: ${row.error}`);
  } finally {
    await cl.stop();
    if (!opts.keepTmp) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  log(`${name}: ${JSON.stringify(row)}`);
  return row;
}

async function main() {
  ensureBuilt(log, opts.build);
  startSampling();
  const root = makeTmpRoot('weir-bench-state-', opts.keepTmp);
  const rows = [];
  for (const keys of opts.keys) for (const backend of opts.backends) for (const mode of opts.modes) rows.push(await runOne(root, backend, mode, keys));
  const result = { system: 'weir', benchmark: 'state', started_at: new Date().toISOString(), setup: { parallelism: 2, taskmanagers: 3, rate: opts.rate, changed_pct: opts.changed }, rows, machine: machineReport() };
  const table = [['backend', 'mode', 'keys', 'load', 'rec/s', 'ckpt p50', 'ckpt p99', 'sync p99', 'written/ckpt', 'state', 'restore->output', 'TM RSS']];
  for (const r of rows) {
    table.push([r.backend, r.mode, r.keys, `${r.load_s ?? '-'} s`, r.throughput_rps ?? '-', `${r.checkpoint_p50_ms ?? '-'} ms`, `${r.checkpoint_p99_ms ?? '-'} ms`, `${r.sync_p99_ms ?? '-'} ms`,
      `${r.checkpointed_mb_p50 ?? '-'} MB`, `${r.state_mb_p50 ?? '-'} MB`, `${r.kill_to_first_output_ms ?? '-'} ms`, `${r.tm_rss_peak_mb ?? '-'} MB${r.error ? ` (${r.error})` : ''}`]);
  }
  emitResult(table, result, opts.out);
}

runBenchmark(main, { log, keepTmp: opts.keepTmp });

// The state phase of run.mjs (--only state): StateJob (the twin of Weir's bench-state.ts)
// on the RocksDB state backend with incremental checkpoints, 1 % of the keys changing per
// checkpoint interval, as scripts/bench/state.mjs measures Weir. Per key count: a fresh
// cluster (JM + 3 TMs, 1 slot each, parallelism 2); the state is loaded; over a steady
// window: throughput (numRecordsIn of the sum vertex), checkpoint end-to-end p50/p99, sync
// phase p99 over every subtask, checkpointed_size and state_size, TaskManager RSS; then
// kill -9 of the TaskManager running sum subtask 0 and the time until every sink
// subtask has output again after the restore.
import fs from 'node:fs';
import path from 'node:path';

const pct = (xs, p) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null;
};
const median = (xs) => pct(xs, 50);
const round = (x, d = 0) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function until(what, fn, timeoutMs, sleep, everyMs = 250) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const v = await fn();
    if (v) return v;
    await sleep(everyMs);
  }
  throw new Error(`${what} not within ${timeoutMs} ms`);
}

export async function statePhase({ newCluster, opts, log, sleep }) {
  const rows = [];
  for (const keys of opts.stateKeys) {
    const intervalMs = Math.max(200, Math.round((0.01 * keys / opts.stateRate) * 1000));
    const cl = newCluster(`state-${keys}`, opts.parallelism + 1, {
      'state.backend.type': 'rocksdb',
      'execution.checkpointing.incremental': true,
      'taskmanager.memory.managed.size': `${opts.stateManagedMb}m`,
      'restart-strategy.fixed-delay.delay': '0 ms',
    });
    const row = { backend: 'rocksdb', mode: 'incremental', keys, rate: opts.stateRate, interval_ms: intervalMs };
    try {
      await cl.start();
      const stats = path.join(cl.dir, 'stats');
      const jobId = await cl.submit('StateJob', ['--keys', String(keys), '--rate', String(Math.round(opts.stateRate / opts.parallelism)),
        '--checkpoint-interval-ms', String(intervalMs), '--backend', 'rocksdb', '--incremental', 'true', '--stats-dir', stats, '--restart-delay-ms', '0']);
      const job = await cl.waitRunning(jobId, 120000);
      const sum = job.vertices.find((v) => /sum/i.test(v.name));
      const t0 = Date.now();
      await until('state loaded', () => fs.existsSync(stats) && fs.readdirSync(stats).filter((f) => f.startsWith('loaded-')).length >= opts.parallelism, 30 * 60_000, sleep, 500);
      row.load_s = round((Date.now() - t0) / 1000, 1);
      log(`state ${keys}: loaded in ${row.load_s} s; checkpoint every ${intervalMs} ms`);
      const recordsIn = () => cl.vertexMetric(jobId, sum.id, 'numRecordsIn');
      await until('steady rate', async () => {
        const a = await recordsIn();
        await sleep(3000);
        const b = await recordsIn();
        return a != null && b != null && (b - a) / 3 < opts.stateRate * 1.2;
      }, 10 * 60_000, sleep, 0);
      const completed = async () => (await cl.get(`/jobs/${jobId}/checkpoints`)).counts?.completed ?? 0;
      const base = await completed();
      await until('warm-up checkpoints', async () => (await completed()) >= base + 2, 10 * 60_000, sleep);
      const windowStart = Date.now();
      const r0 = await recordsIn();
      const start = await completed();
      let peak = 0;
      await until('steady checkpoints', async () => {
        for (const pid of cl.tms.values()) peak = Math.max(peak, rssMb(pid) ?? 0);
        return (await completed()) >= start + opts.stateCheckpoints;
      }, 30 * 60_000, sleep);
      const r1 = await recordsIn();
      row.throughput_rps = round(((r1 - r0) / (Date.now() - windowStart)) * 1000);
      const c = await cl.get(`/jobs/${jobId}/checkpoints`);
      const done = (c.history ?? []).filter((h) => h.status === 'COMPLETED' && h.trigger_timestamp >= windowStart);
      row.checkpoints = done.length;
      row.checkpoint_p50_ms = median(done.map((h) => h.end_to_end_duration));
      row.checkpoint_p99_ms = pct(done.map((h) => h.end_to_end_duration), 99);
      const syncs = [];
      for (const h of done) {
        for (const v of job.vertices) {
          const d = await cl.get(`/jobs/${jobId}/checkpoints/details/${h.id}/subtasks/${v.id}`).catch(() => null);
          for (const s of d?.subtasks ?? []) if (s.checkpoint?.sync != null) syncs.push(s.checkpoint.sync);
        }
      }
      row.sync_p99_ms = pct(syncs, 99);
      row.checkpointed_mb_p50 = round(median(done.map((h) => h.checkpointed_size)) / 2 ** 20, 1);
      row.state_mb_p50 = round(median(done.map((h) => h.state_size)) / 2 ** 20, 1);
      row.tm_rss_peak_mb = round(peak);
      const v = await cl.get(`/jobs/${jobId}/vertices/${sum.id}`);
      const victimTm = v.subtasks.find((s) => s.subtask === 0)['taskmanager-id'];
      const victim = cl.tms.get(victimTm);
      const attempt = Math.max(...v.subtasks.map((s) => s.attempt));
      const killT = Date.now();
      process.kill(victim, 'SIGKILL');
      cl.tms.delete(victimTm);
      log(`state ${keys}: kill -9 ${victimTm} (pid ${victim})`);
      const firsts = await until('every sink subtask to output after the restore', () => {
        const files = fs.readdirSync(stats).map((f) => /^first-(\d+)-(\d+)$/.exec(f)).filter((m) => m && Number(m[2]) > attempt);
        return files.length >= opts.parallelism ? files.map((m) => Number(fs.readFileSync(path.join(stats, m[0]), 'utf8'))) : null;
      }, 10 * 60_000, sleep, 20);
      row.kill_to_first_output_ms = Math.max(...firsts) - killT;
      await cl.cancel(jobId);
    } catch (e) {
      row.error = String(e.message ?? e);
      log(`state ${keys}: ${row.error}`);
    } finally {
      await cl.stop();
    }
    log(`state ${keys}: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  return { rows };
}

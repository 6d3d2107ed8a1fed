// Scaling curves of the keyed throughput job, shared by the Weir and Flink harnesses:
// records/s against the key count (at one parallelism) and against the parallelism (at one
// key count), each point with checkpointing off and/or every 1 s. Each harness supplies how
// to start a cluster and run one point; this file owns the plan and the JSON shape, so both
// sides report the same fields.
import { countAt, readCounts } from './sink-files.mjs';

export const SCALING_USAGE = `  --scaling-keys LIST      key counts of the key curve (default 10000,1000000,10000000)
  --scaling-keys-parallelism N   parallelism of the key curve (default 2)
  --scaling-parallelism LIST     parallelisms of the parallelism curve, one slot per TaskManager
                          on the same cores (default 1,2,4)
  --scaling-parallelism-keys N   keys of the parallelism curve (default 10000)
  --scaling-checkpointing LIST   off and/or 1s, for the key curve (default off,1s)
  --scaling-parallelism-checkpointing LIST   the same for the parallelism curve (default off,1s)
  --scaling-fill-timeout-s N     wait at most this long for the first pass over all keys (default 180)`;

const list = (s) => String(s).split(',').map((x) => x.trim()).filter(Boolean);

function checkpointingList(s, flag) {
  const xs = list(s);
  for (const x of xs) if (x !== 'off' && x !== '1s') throw new Error(`${flag}: expected off and/or 1s, got ${x}`);
  return xs;
}

function countList(s, flag) {
  const xs = list(s).map(Number);
  for (const x of xs) if (!Number.isInteger(x) || x < 1) throw new Error(`${flag}: expected positive integers, got ${s}`);
  return xs;
}

/** Scaling options from parsed argv (o); throws one clear message per bad value. */
export function scalingOptions(o) {
  const one = (k, d) => countList(o[k] ?? String(d), `--${k}`)[0];
  return {
    keys: countList(o['scaling-keys'] ?? '10000,1000000,10000000', '--scaling-keys'),
    keysParallelism: one('scaling-keys-parallelism', 2),
    parallelism: countList(o['scaling-parallelism'] ?? '1,2,4', '--scaling-parallelism'),
    parallelismKeys: one('scaling-parallelism-keys', 10000),
    keysCheckpointing: checkpointingList(o['scaling-checkpointing'] ?? 'off,1s', '--scaling-checkpointing'),
    parallelismCheckpointing: checkpointingList(o['scaling-parallelism-checkpointing'] ?? 'off,1s', '--scaling-parallelism-checkpointing'),
    fillTimeoutS: one('scaling-fill-timeout-s', 180),
  };
}

export const intervalMs = (checkpointing) => (checkpointing === '1s' ? 1000 : 0);

/**
 * Waits until the sinks have counted `records` (the generator emits key i % keys, so this
 * many records have touched every key once and the state is at its full size) or timeoutS.
 * Returns the seconds it took, or null on timeout.
 */
export async function waitFirstPass(statsDir, records, timeoutS, sleep) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutS * 1000) {
    const series = readCounts(statsDir);
    if (series.length && countAt(series, Date.now() + 1) >= records) return (Date.now() - t0) / 1000;
    await sleep(500);
  }
  return null;
}

/**
 * One point's JSON from its measured window (`t`: rps, windowS, min/maxIntervalRps), the
 * seconds of its first pass over the keys, and, with checkpointing on, the checkpoints
 * of the window (`stats`: count, duration_ms_median/max, state_size_bytes_last).
 */
export function pointEntry(t, firstPass, stats, round) {
  const entry = { records_per_s: round(t.rps), window_s: round(t.windowS, 1), first_pass_s: round(firstPass, 1),
    interval_rps_min: round(t.minIntervalRps), interval_rps_max: round(t.maxIntervalRps) };
  if (stats) {
    entry.checkpoints = { count: stats.count, duration_ms_median: stats.duration_ms_median, duration_ms_max: stats.duration_ms_max, state_size_bytes_last: stats.state_size_bytes_last };
  }
  return entry;
}

/**
 * Runs both curves. side: {
 *   startCluster(name, numTms) -> cluster (started),
 *   runPoint(cluster, {keys, parallelism, checkpointing, name}) -> {records_per_s, ...extra},
 *   stopCluster(cluster), rss (the sampler's {phase, byPhase}), log, round }.
 * One cluster for the key curve; one per parallelism, with exactly that many TaskManagers.
 */
export async function scalingPhase(sc, side) {
  const { rss, log, round } = side;
  const out = { keys: [], parallelism: [], setup: { keys_parallelism: sc.keysParallelism, parallelism_keys: sc.parallelismKeys, slots_per_tm: 1 } };
  const point = async (cl, p) => {
    rss.phase = `scaling_${p.name}`;
    rss.byPhase[rss.phase] = 0;
    try {
      const r = await p.run(cl);
      return { ...r, peak_rss_mb: round(rss.byPhase[rss.phase]) };
    } catch (e) {
      // One point failing (say, out of memory at 10M keys) is a result; the other points still run.
      log(`scaling ${p.name}: ${e.message}`);
      return { records_per_s: null, error: e.message.split('\n')[0] };
    }
  };

  if (sc.keys.length && sc.keysCheckpointing.length) {
    const cl = await side.startCluster('scaling-keys', sc.keysParallelism);
    try {
      for (const keys of sc.keys) {
        for (const checkpointing of sc.keysCheckpointing) {
          const name = `keys_${keys}_${checkpointing}`;
          const r = await point(cl, { name, run: (c) => side.runPoint(c, { keys, parallelism: sc.keysParallelism, checkpointing, name }) });
          out.keys.push({ keys, checkpointing, parallelism: sc.keysParallelism, ...r });
          log(`scaling keys=${keys} checkpointing=${checkpointing}: ${r.records_per_s ?? r.error} records/s, peak RSS ${r.peak_rss_mb ?? 'n/a'} MB`);
        }
      }
    } finally {
      rss.phase = 'idle';
      await side.stopCluster(cl);
    }
  }
  if (sc.parallelismCheckpointing.length) {
    for (const parallelism of sc.parallelism) {
      const cl = await side.startCluster(`scaling-p${parallelism}`, parallelism);
      try {
        for (const checkpointing of sc.parallelismCheckpointing) {
          const name = `p${parallelism}_${checkpointing}`;
          const r = await point(cl, { name, run: (c) => side.runPoint(c, { keys: sc.parallelismKeys, parallelism, checkpointing, name }) });
          out.parallelism.push({ parallelism, checkpointing, keys: sc.parallelismKeys, ...r });
          log(`scaling p=${parallelism} checkpointing=${checkpointing}: ${r.records_per_s ?? r.error} records/s`);
        }
      } finally {
        rss.phase = 'idle';
        await side.stopCluster(cl);
      }
    }
  }
  return out;
}

/** Flat summary keys for compare: scaling_rps_keys_<keys>_<off|1s>, scaling_rps_p<p>_<off|1s>. */
export function scalingSummary(scaling) {
  const s = {};
  for (const e of scaling?.keys ?? []) s[`scaling_rps_keys_${e.keys}_${e.checkpointing}`] = e.records_per_s;
  for (const e of scaling?.parallelism ?? []) s[`scaling_rps_p${e.parallelism}_${e.checkpointing}`] = e.records_per_s;
  return s;
}

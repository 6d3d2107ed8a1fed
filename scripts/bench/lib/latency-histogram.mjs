// Reads the latency histograms that the sinks of packages/examples/src/bench-latency.ts
// and bench/peers/flink LatencyJob write, merges the ones of a measuring window over all
// subtasks, and answers percentiles.
//
// Each sink subtask appends one JSON line per second (its own clock) to
// latency-<subtask>-<attempt>.jsonl: {from, to, subtask, attempt, n, max_us, h}, where
// from/to are wall-clock ms, n the records in [from, to), and h maps bucket -> count.
// A bucket holds latencies in microseconds: bucket b < 128 is exactly b us; above, 64
// buckets per power of two (b = 128 + (shift - 1) * 64 + (us >> shift) - 64, with
// shift = floor(log2(us)) - 6), so a value is known to within 1.6 %.
import fs from 'node:fs';
import path from 'node:path';

const SUB = 128;
const HALF = SUB / 2;

/** The middle of a bucket, in microseconds. */
export function bucketMidUs(b) {
  if (b < SUB) return b;
  const shift = Math.floor((b - SUB) / HALF) + 1;
  const lower = ((b - SUB) % HALF + HALF) * 2 ** shift;
  return lower + 2 ** shift / 2;
}

/** Every interval line of every sink file in dir. */
export function readIntervals(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => /^latency-\d+-\d+\.jsonl$/.test(f)).flatMap((f) =>
    fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).flatMap((l) => {
      try { return [JSON.parse(l)]; } catch { return []; } // a line being written
    }));
}

/**
 * The intervals whose middle lies in [t0, t1], merged: records/s (summed over subtasks, each
 * from its own covered time), count, percentiles in ms, max, and how many intervals went in.
 */
export function windowStats(intervals, t0, t1) {
  const inside = intervals.filter((x) => { const mid = (x.from + x.to) / 2; return mid >= t0 && mid <= t1; });
  const counts = new Map();
  const perSubtask = new Map();
  let n = 0;
  let maxUs = 0;
  for (const x of inside) {
    for (const [b, c] of Object.entries(x.h)) counts.set(Number(b), (counts.get(Number(b)) ?? 0) + c);
    n += x.n;
    maxUs = Math.max(maxUs, x.max_us);
    const s = perSubtask.get(x.subtask) ?? { n: 0, ms: 0 };
    s.n += x.n;
    s.ms += x.to - x.from;
    perSubtask.set(x.subtask, s);
  }
  const rps = [...perSubtask.values()].reduce((a, s) => a + (s.ms > 0 ? (s.n / s.ms) * 1000 : 0), 0);
  const sorted = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  const pct = (p) => {
    if (!n) return null;
    const rank = Math.ceil(p * n);
    let seen = 0;
    for (const [b, c] of sorted) {
      seen += c;
      if (seen >= rank) return bucketMidUs(b) / 1000;
    }
    return bucketMidUs(sorted[sorted.length - 1][0]) / 1000;
  };
  return { rps, n, intervals: inside.length, subtasks: perSubtask.size, p50_ms: pct(0.5), p99_ms: pct(0.99), p999_ms: pct(0.999), max_ms: n ? maxUs / 1000 : null };
}

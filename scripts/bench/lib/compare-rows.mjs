// The rows of scripts/bench/compare: which figures of the Weir and Flink JSONs sit side by
// side, which direction is better, and the Markdown table with a footnote for every row
// where Weir is behind and a reason has been written down.

/**
 * Why Weir is behind on a row, by row id (a summary key such as
 * 'throughput_rps_no_checkpoint', 'scaling_rps_keys_1000000_1s', 'latency_p99_ms_load_50').
 * Filled in from a quiet-machine run; a row where Weir is behind without an entry here is
 * counted under the table, so a gap without a reason is visible.
 */
const CPU_PER_RECORD = 'Weir spends more CPU per record on this job. In one process its record path (source, batch, key, sum, sink) takes about 0.145 µs per record '
  + '(scripts/bench/hot-path.ts, 2026-11-30 night). On the cluster the job\'s sum with its state read and write takes 13.5 % of the TaskManagers\' time, the source\'s output path '
  + '(key group, batch) 19.6 %, encoding batches 17.6 % (extract and encodeColumnar), garbage collection 5.4 % and decoding 4.3 % '
  + '(scripts/bench/results/2026-11-30-profile-throughput-10k-keys-checkpoint-1s-third-pass.txt).';
const STATE_LOOKUP = 'Weir\'s heap state keeps number keys from 0 in a dense region indexed by the key; text keys, and number keys too sparse for it, are looked up in a Map per key group, '
  + 'whose entries leave the CPU\'s caches at a million keys (a read and a write: about 0.19-0.36 µs against 0.02 µs in the dense region for keys in key order, scripts/bench/state-table.ts).';
const CAPTURE_SLICES = 'Weir reads and encodes a checkpoint\'s capture on the task\'s thread, 10 ms at a time between 10 ms slices of records, so records keep flowing during the checkpoint '
  + '(9.23 M records/s on Weir against 2.26 M/s on Flink in this phase of the 2026-12-01 01:11 run, 8.02 against 1.95 M/s on 2026-11-30 at 22:23); Flink reads on a thread of its own. In its profile '
  + '(scripts/bench/results/2026-11-30-profile-checkpoint-1m-keys-1s-third-pass.txt, before the 22:23 run) the contract walk over the snapshot took 11.6 %, the dense reader 6.8 %, '
  + 'copy-on-write keeps 5.8 % and msgpack 5.4 %; the walk and the reader were made cheaper for the 22:23 run (median 423 -> 339 ms, worst 608 -> 466 ms).';
const BATCH_FILL = 'Weir\'s batches hold up to 2048 records (512 before the second pass, for throughput), so at 90 % load a record waits a little longer for its batch to fill; '
  + 'its p99 and p99.9 at that load are still below Flink\'s.';
const ONE_THREAD = 'At parallelism 1 Weir runs both tasks of the job (source, keyed sum) on its one slot\'s thread, so on one core; Flink runs each task on a thread of its own and uses both cores.';
const FULL_HEAP_SNAPSHOTS = 'A full heap checkpoint of 5M keys per task every second: Weir reads and encodes the capture on the task\'s thread in 10 ms slices between records, '
  + 'Flink on a separate asynchronous thread. With checkpointing off Weir is ahead at 10M keys.';

export const REASONS = {
  throughput_rps_no_checkpoint: CPU_PER_RECORD,
  throughput_rps_checkpoint_1s: CPU_PER_RECORD,
  scaling_rps_keys_10000_off: CPU_PER_RECORD,
  scaling_rps_keys_10000_1s: CPU_PER_RECORD,
  scaling_rps_keys_1000000_off: STATE_LOOKUP,
  scaling_rps_keys_1000000_1s: STATE_LOOKUP,
  checkpoint_1m_keys_duration_ms_median: CAPTURE_SLICES,
  checkpoint_1m_keys_duration_ms_max: CAPTURE_SLICES,
  latency_p50_ms_load_90: BATCH_FILL,
  scaling_rps_keys_10000000_1s: FULL_HEAP_SNAPSHOTS,
  scaling_rps_p1_off: ONE_THREAD,
  scaling_rps_p1_1s: ONE_THREAD,
  scaling_rps_p2_off: CPU_PER_RECORD,
  scaling_rps_p2_1s: CPU_PER_RECORD,
  scaling_rps_p4_1s: CPU_PER_RECORD,
  latency_max_rps: CPU_PER_RECORD,
};

export function fmt(v, unit) {
  if (v == null) return 'n/a';
  if (unit === 'rps') return v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${Math.round(v / 1e3)} k/s`;
  if (unit === 'ms') return v >= 10000 ? `${(v / 1000).toFixed(1)} s` : v < 10 ? `${v.toFixed(2)} ms` : `${Math.round(v)} ms`;
  if (unit === 'mb') return v >= 1024 ? `${(v / 1024).toFixed(2)} GB` : `${Math.round(v)} MB`;
  return String(v);
}

const HEADLINE = [
  ['throughput_rps_no_checkpoint', 'records/s, checkpointing off', 'rps', 'higher'],
  ['throughput_rps_checkpoint_1s', 'records/s, checkpoint every 1 s', 'rps', 'higher'],
  ['checkpoint_1m_keys_duration_ms_median', 'checkpoint duration, 1M keys, median', 'ms', 'lower'],
  ['checkpoint_1m_keys_duration_ms_max', 'checkpoint duration, 1M keys, worst', 'ms', 'lower'],
  ['recovery_kill_to_running_ms', 'recovery: kill -9 -> all RUNNING', 'ms', 'lower'],
  ['recovery_kill_to_first_output_ms', 'recovery: kill -9 -> first output', 'ms', 'lower'],
  ['peak_rss_mb', 'peak memory (RSS, JM + TMs)', 'mb', 'lower'],
  ['startup_ms', 'start to cluster ready (JM + 2 TMs)', 'ms', 'lower'],
];

const keysLabel = (k) => (k >= 1e6 && k % 1e6 === 0 ? `${k / 1e6}M` : k >= 1e3 && k % 1e3 === 0 ? `${k / 1e3}k` : String(k));
const ckptLabel = (c) => (c === '1s' ? 'checkpoint every 1 s' : 'checkpointing off');

/** Scaling rows from both sides' `scaling` sections: every point either side measured. */
function scalingRows(weir, flink) {
  const points = new Map();
  for (const side of [weir, flink]) {
    for (const e of side?.scaling?.keys ?? []) {
      points.set(`scaling_rps_keys_${e.keys}_${e.checkpointing}`, { order: [0, e.keys, e.checkpointing],
        label: `scaling: records/s, ${keysLabel(e.keys)} keys, p=${e.parallelism ?? 2}, ${ckptLabel(e.checkpointing)}` });
    }
    for (const e of side?.scaling?.parallelism ?? []) {
      points.set(`scaling_rps_p${e.parallelism}_${e.checkpointing}`, { order: [1, e.parallelism, e.checkpointing],
        label: `scaling: records/s, p=${e.parallelism}, ${keysLabel(e.keys ?? 10000)} keys, ${ckptLabel(e.checkpointing)}` });
    }
  }
  const cmp = (a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1] || String(b.order[2]).localeCompare(String(a.order[2]));
  const value = (side, id) => {
    const k = /^scaling_rps_keys_(\d+)_(\w+)$/.exec(id);
    const p = /^scaling_rps_p(\d+)_(\w+)$/.exec(id);
    const e = k ? side?.scaling?.keys?.find((x) => x.keys === Number(k[1]) && x.checkpointing === k[2])
      : side?.scaling?.parallelism?.find((x) => x.parallelism === Number(p[1]) && x.checkpointing === p[2]);
    return e?.records_per_s ?? null;
  };
  return [...points.entries()].sort((a, b) => cmp(a[1], b[1]))
    .map(([id, p]) => ({ id, label: p.label, unit: 'rps', better: 'higher', w: value(weir, id), f: value(flink, id) }));
}

const LOADS = [[0.1, '10'], [0.5, '50'], [0.9, '90']];
const PCTS = [['p50_ms', 'p50'], ['p99_ms', 'p99'], ['p999_ms', 'p99.9']];

/** Latency rows from scripts/bench/latency.mjs's JSON ({weir:{max_rps, loads}, flink:{…}}). */
function latencyRows(lat) {
  if (!lat) return [];
  const at = (side, load) => side?.loads?.find((l) => Math.abs(l.load - load) < 1e-9);
  const rows = [{ id: 'latency_max_rps', label: 'latency job: highest sustained records/s', unit: 'rps', better: 'higher', w: lat.weir?.max_rps ?? null, f: lat.flink?.max_rps ?? null }];
  for (const [load, pct] of LOADS) {
    for (const [key, name] of PCTS) {
      rows.push({ id: `latency_${name.replace('.', '')}_ms_load_${pct}`, label: `latency ${name} at ${pct} % load`, unit: 'ms', better: 'lower',
        w: at(lat.weir, load)?.[key] ?? null, f: at(lat.flink, load)?.[key] ?? null });
    }
  }
  return rows;
}

/** Every row: {id, label, unit, better, w, f}. W and F are the summaries. */
export function buildRows(weir, flink, latency) {
  const headline = HEADLINE.map(([id, label, unit, better]) => ({ id, label, unit, better, w: weir?.summary?.[id] ?? null, f: flink?.summary?.[id] ?? null }));
  return [...headline, ...scalingRows(weir, flink), ...latencyRows(latency)];
}

/** Ratio and which side is ahead; 'Flink' rows get a footnote number when REASONS has one. */
export function judge(row, reasons = REASONS) {
  const ratio = row.w != null && row.f != null && row.f !== 0 ? row.w / row.f : null;
  const ahead = ratio == null ? '' : ratio === 1 ? '=' : (row.better === 'higher' ? ratio > 1 : ratio < 1) ? 'Weir' : 'Flink';
  return { ...row, ratio, ahead, reason: ahead === 'Flink' ? reasons[row.id] ?? null : null };
}

/** Markdown table plus footnotes; `unexplained` lists row ids where Weir is behind with no reason. */
export function renderTable(rows, reasons = REASONS) {
  const judged = rows.map((r) => judge(r, reasons));
  const notes = [];
  const body = judged.map((r) => {
    let ahead = r.ahead;
    if (r.reason) {
      // Rows with the same reason share one footnote.
      if (!notes.includes(r.reason)) notes.push(r.reason);
      ahead += ` [${notes.indexOf(r.reason) + 1}]`;
    }
    return [r.label, fmt(r.w, r.unit), fmt(r.f, r.unit), r.ratio == null ? 'n/a' : `${r.ratio.toFixed(2)}x`, `${r.better} is better`, ahead];
  });
  const head = ['', 'Weir', 'Flink', 'Weir/Flink', 'direction', 'ahead'];
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const md = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
  const footnotes = notes.map((n, i) => `[${i + 1}] ${n}`);
  const unexplained = judged.filter((r) => r.ahead === 'Flink' && !r.reason).map((r) => r.id);
  return { md, footnotes, unexplained, judged };
}

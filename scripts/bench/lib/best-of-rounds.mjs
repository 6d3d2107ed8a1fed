// Throughput points measured in more than one round (a fresh cluster each round, both
// systems alike): each point keeps its best round, and every round's figure stays beside
// it. On 2 shared cores one cluster of either system can run a whole window well below
// the next one (Flink's 10k-key job at 3.0 and 8.9 M/s, Weir's at 9.5 and 13.1 M/s in one
// run, docs/benchmarks.md); the best of two is the figure that noise did not take down.

/**
 * Where a harness JSON (weir.mjs or the Flink peer) keeps its throughput points, and the
 * summary key that repeats each one (the table's headline rows read the summary).
 */
function points(side) {
  const out = [];
  for (const name of ['no_checkpoint', 'checkpoint_1s']) {
    if (side?.throughput?.[name]) {
      out.push({ id: `throughput ${name}`, summary: `throughput_rps_${name}`, get: () => side.throughput[name], set: (e) => (side.throughput[name] = e) });
    }
  }
  for (const curve of ['keys', 'parallelism']) {
    (side?.scaling?.[curve] ?? []).forEach((e, i) => {
      const summary = curve === 'keys' ? `scaling_rps_keys_${e.keys}_${e.checkpointing}` : `scaling_rps_p${e.parallelism}_${e.checkpointing}`;
      out.push({ id: `${curve} ${e.keys} ${e.parallelism} ${e.checkpointing}`, summary, get: () => side.scaling[curve][i], set: (v) => (side.scaling[curve][i] = v) });
    });
  }
  return out;
}

/** The summary's throughput figures as the points now hold them. */
export function syncSummary(side) {
  for (const p of points(side)) {
    const rps = p.get().records_per_s;
    if (side.summary && p.summary in side.summary && rps != null) side.summary[p.summary] = rps;
  }
  return side;
}

/**
 * Folds a later round's throughput points into `into` (changed in place): each point keeps
 * the entry with the higher records_per_s and lists every round's in `rounds_rps`.
 * Points a round failed (no records_per_s) count as not measured in that round.
 */
export function foldRound(into, round) {
  if (!into || !round) return into;
  const later = new Map(points(round).map((p) => [p.id, p.get()]));
  for (const p of points(into)) {
    const mine = p.get();
    const theirs = later.get(p.id);
    if (!theirs) continue;
    const rounds = [...(mine.rounds_rps ?? [mine.records_per_s ?? null]), theirs.records_per_s ?? null];
    const better = (theirs.records_per_s ?? -1) > (mine.records_per_s ?? -1) ? theirs : mine;
    p.set({ ...better, rounds_rps: rounds });
  }
  return syncSummary(into);
}

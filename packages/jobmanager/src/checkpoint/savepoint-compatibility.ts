/**
 * Compares saved state with the job about to start from it, before anything is deployed,
 * and says in words what will happen to every operator's state: restored (and at which
 * parallelism), dropped (refused unless allowed), unmatched for want of a uid, or refused
 * because the operator or the max parallelism changed in a way the state can't follow.
 */
import type { JobGraph, JobVertex, OperatorSpec } from '@weir/core';
import { CHANNEL_STATE_KIND, type SnapshotMetadata } from '@weir/runtime';

export interface SavedOperator {
  uid: string;
  name: string;
  kind: string;
  uidSet: boolean;
  keyed: boolean;
  vertex: string;
  parallelism: number;
  maxParallelism: number;
  /** "name (kind)" of every non-empty state; keyed ones first. */
  states: string[];
  hasKeyedState: boolean;
}

export interface CompatibilityReport {
  refused: boolean;
  restored: { saved: SavedOperator; into: { vertex: string; name: string; parallelism: number } }[];
  dropped: SavedOperator[];
  /** Operators of the new job whose uid was derived from the graph, not given. */
  withoutUid: { uid: string; name: string; kind: string }[];
  problems: string[];
  hints: string[];
  text: string;
}

function savedOperators(snapshot: SnapshotMetadata): SavedOperator[] {
  const states = new Map<string, { keyed: string[]; operator: string[] }>();
  let described = false;
  for (const handle of Object.values(snapshot.handles).flat()) {
    if (handle.states) described = true;
    for (const s of handle.states ?? []) {
      const entry = states.get(s.operator_uid) ?? { keyed: [], operator: [] };
      const label = s.keyed || s.kind === CHANNEL_STATE_KIND ? `${s.name} (${s.kind})` : `${s.name} (${s.kind} list)`;
      const list = s.keyed ? entry.keyed : entry.operator;
      if (!list.includes(label)) list.push(label);
      states.set(s.operator_uid, entry);
    }
  }
  const out: SavedOperator[] = [];
  for (const v of snapshot.vertices ?? []) {
    for (const op of v.operators) {
      const s = states.get(op.uid);
      // Without descriptions (older metadata) every operator may hold state.
      if (!s && described) continue;
      out.push({
        uid: op.uid, name: op.name, kind: op.kind, uidSet: op.uid_set ?? true, keyed: op.keyed ?? false, vertex: v.id,
        parallelism: v.parallelism, maxParallelism: v.max_parallelism,
        states: s ? [...s.keyed, ...s.operator] : ['(unknown)'], hasKeyedState: (s?.keyed.length ?? 0) > 0,
      });
    }
  }
  return out;
}

export function checkCompatibility(snapshot: SnapshotMetadata, graph: JobGraph, options: { allowNonRestoredState: boolean }): CompatibilityReport {
  const byUid = new Map<string, { op: OperatorSpec; vertex: JobVertex }>();
  for (const vertex of graph.vertices) for (const op of vertex.operators) byUid.set(op.uid, { op, vertex });
  const saved = savedOperators(snapshot);
  const report: CompatibilityReport = { refused: false, restored: [], dropped: [], withoutUid: [], problems: [], hints: [], text: '' };
  for (const s of saved) {
    const target = byUid.get(s.uid);
    if (!target) {
      report.dropped.push(s);
      continue;
    }
    report.restored.push({ saved: s, into: { vertex: target.vertex.id, name: target.op.name, parallelism: target.vertex.parallelism } });
    if (target.op.kind !== s.kind) {
      report.problems.push(`operator "${s.uid}" was a ${s.kind} operator (${s.name}) and is a ${target.op.kind} operator (${target.op.name}) now: its state ${s.states.join(', ')} was written by another kind of operator`);
    } else if (s.hasKeyedState && target.op.keyed === false) {
      report.problems.push(`operator "${s.uid}" (${target.op.name}) holds keyed state but no longer follows a keyBy: keyed state can only be restored into a keyed operator`);
    }
    if (s.hasKeyedState && s.maxParallelism !== target.vertex.max_parallelism) {
      report.problems.push(
        `operator "${s.uid}" (${target.op.name}): max parallelism ${target.vertex.max_parallelism} differs from the saved ${s.maxParallelism}; ` +
          `it fixes the key groups of keyed state, so it cannot change (set pipeline.max-parallelism or setMaxParallelism back to ${s.maxParallelism})`,
      );
    }
  }
  const graphChange = inFlightDataProblem(snapshot, graph);
  if (graphChange) report.problems.push(graphChange);
  // Operators that may hold state (sources, keyed ones, sinks); stateless maps need no uid.
  for (const vertex of graph.vertices) {
    vertex.operators.forEach((op, i) => {
      const mayHoldState = (vertex.is_source && i === 0) || op.keyed || ['sink', 'reduce', 'process'].includes(op.kind);
      if (op.uid_set === false && mayHoldState) report.withoutUid.push({ uid: op.uid, name: op.name, kind: op.kind });
    });
  }
  if (report.dropped.length > 0 && !options.allowNonRestoredState) {
    report.problems.push(
      `the state of ${report.dropped.length} operator(s) (${report.dropped.map((d) => `"${d.uid}"`).join(', ')}) has no operator with that uid in the job; ` +
        'give the operator its old uid, or start with --allow-non-restored-state to drop that state',
    );
  }
  // The likely cause of dropped state: an operator of the same kind lost its uid.
  for (const d of report.dropped) {
    for (const o of report.withoutUid.filter((w) => w.kind === d.kind)) {
      report.hints.push(`"${d.uid}" (${d.name}) may be ${o.name}, which has no uid now: give it .uid('${d.uid}')`);
    }
  }
  report.refused = report.problems.length > 0;
  report.text = formatReport(snapshot, report, options);
  return report;
}

/**
 * In-flight data of an unaligned checkpoint is stored per vertex and per output edge, so it
 * replays only into the same graph: the same vertices, each with the same chained operators
 * and the same keyBy in front. Only the parallelism may change (the records are handed to
 * the new subtasks, by key group behind a keyBy).
 */
function inFlightDataProblem(snapshot: SnapshotMetadata, graph: JobGraph): string | undefined {
  const holds = Object.values(snapshot.handles).flat().some((h) => h.states?.some((s) => s.kind === CHANNEL_STATE_KIND));
  if (!holds || !snapshot.vertices) return undefined;
  const shape = (v: { id: string; operators: { uid: string; keyed?: boolean }[] }) => `${v.id}: ${v.operators.map((o) => `${o.keyed ? 'keyBy -> ' : ''}${o.uid}`).join(' -> ')}`;
  const before = snapshot.vertices.map(shape);
  const now = graph.vertices.map(shape);
  const changed = before.findIndex((b, i) => b !== now[i]);
  const advice = 'resume it unchanged with execution.checkpointing.unaligned.enabled=false, take a savepoint (aligned then), and start the changed job from that savepoint';
  if (changed >= 0 || before.length !== now.length) {
    const what = changed < 0
      ? `the job had ${before.length} tasks and has ${now.length} now`
      : `task ${before[changed]} is ${now[changed] ?? 'gone'} now`;
    return `checkpoint ${snapshot.id} holds records that were in flight when it was taken (an unaligned checkpoint), which replay only into the same job graph (same operators, chaining and keyBy; the parallelism may change), but ${what}: ${advice}`;
  }
  // Every consumer of a broadcast edge holds its own copy of the records in flight to it,
  // each at its own position: no split of those copies is right for another parallelism.
  const old = new Map(snapshot.vertices.map((v) => [v.id, v]));
  const names = new Map(graph.vertices.map((v) => [v.id, v]));
  for (const e of graph.edges.filter((x) => x.partitioning === 'BROADCAST')) {
    const [from, to] = [names.get(e.source), names.get(e.target)];
    if (!from || !to) continue;
    if (old.get(from.id)?.parallelism === from.parallelism && old.get(to.id)?.parallelism === to.parallelism) continue;
    return `checkpoint ${snapshot.id} holds records that were in flight when it was taken (an unaligned checkpoint), and those on the broadcast edge "${from.name}" -> "${to.name}" ` +
      `(a copy per consumer) cannot be redistributed to another parallelism: resume with "${from.name}" at ${old.get(from.id)?.parallelism} and "${to.name}" at ${old.get(to.id)?.parallelism} subtasks as before, ` +
      `or ${advice.replace('the changed job', 'the job at the new parallelism')}`;
  }
  return undefined;
}

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`.trimEnd());
}

function formatReport(snapshot: SnapshotMetadata, r: CompatibilityReport, options: { allowNonRestoredState: boolean }): string {
  const kind = snapshot.kind === 'SAVEPOINT' ? 'savepoint' : 'checkpoint';
  const lines = [`Restoring from ${kind} ${snapshot.path} (checkpoint ${snapshot.id} of job ${snapshot.jobId}, taken ${new Date(snapshot.completedAt).toISOString()})`];
  if (r.restored.length > 0) {
    lines.push('State restored, matched by operator uid:');
    lines.push(...pad([
      ['UID', 'OPERATOR', 'STATE', 'PARALLELISM'],
      ...r.restored.map(({ saved, into }) => [saved.uid, into.name, saved.states.join(', '), `${saved.parallelism} -> ${into.parallelism}`]),
    ]));
  } else {
    lines.push('No state of the savepoint matches an operator of the job.');
  }
  if (r.dropped.length > 0) {
    lines.push(options.allowNonRestoredState ? 'State dropped (--allow-non-restored-state), no operator has its uid:' : 'State that would be dropped, no operator has its uid:');
    lines.push(...pad([['UID', 'WAS', 'STATE'], ...r.dropped.map((d) => [d.uid, `${d.name} (${d.kind}${d.uidSet ? '' : ', uid derived from the graph'})`, d.states.join(', ')])]));
  }
  if (r.withoutUid.length > 0) {
    lines.push('Operators without a uid (their state is matched by a uid derived from the graph\'s shape, which changes when the job does; set .uid(...)):');
    lines.push(...pad([['DERIVED UID', 'OPERATOR'], ...r.withoutUid.map((o) => [o.uid, `${o.name} (${o.kind})`])]));
  }
  if (r.refused) {
    lines.push('Refused:');
    for (const p of r.problems) lines.push(`  - ${p}`);
    for (const h of r.hints) lines.push(`  Hint: ${h}`);
  } else {
    lines.push('Compatible.');
  }
  return lines.join('\n');
}

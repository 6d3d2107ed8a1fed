import { describe, expect, it } from 'vitest';
import type { JobGraph, JobVertex, OperatorSpec, StateHandle } from '@weir/core';
import type { SnapshotMetadata } from '@weir/runtime';
import { checkCompatibility } from './savepoint-compatibility';
import { restoreHandlesFor } from './restore-plan';

const op = (uid: string, kind: string, name: string, extra: Partial<OperatorSpec> = {}): OperatorSpec => ({ uid, kind, name, uid_set: true, keyed: false, ...extra });

/** keyed-sum as saved: v1 = numbers -> map, v2 = sum (keyed) -> map -> sink; parallelism 2, max 128. */
function saved(): SnapshotMetadata {
  const vertices = [
    { id: 'v1', name: 'numbers -> Map', parallelism: 2, max_parallelism: 128, operators: [op('numbers', 'source', 'numbers'), op('map-2', 'map', 'Map', { uid_set: false })] },
    {
      id: 'v2', name: 'Sum -> Map -> Sink', parallelism: 2, max_parallelism: 128,
      operators: [op('sum', 'reduce', 'Sum(count)', { keyed: true }), op('map-5', 'map', 'Map', { uid_set: false }), op('sink', 'sink', 'FileSink(out)')],
    },
  ];
  const handle = (vertex: string, subtask: number, start: number, end: number, states: StateHandle['states']): StateHandle => ({
    operator_uid: '*', path: `/sp/${vertex}-${subtask}.state`, size: 1, checksum: 'x', key_group_start: start, key_group_end: end, states,
  });
  const source = [{ operator_uid: 'numbers', name: 'generator-splits', kind: 'union', keyed: false }];
  const keyed = [
    { operator_uid: 'sum', name: 'reduce', kind: 'value', keyed: true },
    { operator_uid: 'sink', name: 'file-sink-pending', kind: 'union', keyed: false },
  ];
  return {
    jobId: 'old', id: 7, kind: 'SAVEPOINT', triggeredAt: 0, completedAt: 0, final: false, path: '/sp', vertices,
    handles: { v1: [handle('v1', 1, 0, -1, source), handle('v1', 0, 0, -1, source)], v2: [handle('v2', 1, 64, 127, keyed), handle('v2', 0, 0, 63, keyed)] },
  };
}

/** The same job as a new graph; `change` edits its vertices. */
function job(parallelism: number, change: (vertices: JobVertex[]) => void = () => {}): JobGraph {
  const vertices: JobVertex[] = saved().vertices!.map((v) => ({ ...v, parallelism, is_source: v.id === 'v1', operators: v.operators.map((o) => ({ ...o })) }));
  change(vertices);
  return { name: 'j', vertices, edges: [], checkpoint_interval_ms: 0, checkpointing_mode: 'EXACTLY_ONCE', bounded: true, config: {} };
}

describe('compatibility of saved state with a job', () => {
  it('the same job at another parallelism: every stateful operator restored, by uid, with its rescale', () => {
    const r = checkCompatibility(saved(), job(3), { allowNonRestoredState: false });
    expect(r.refused).toBe(false);
    expect(r.restored.map((x) => [x.saved.uid, x.saved.states, `${x.saved.parallelism}->${x.into.parallelism}`])).toEqual([
      ['numbers', ['generator-splits (union list)'], '2->3'],
      ['sum', ['reduce (value)'], '2->3'],
      ['sink', ['file-sink-pending (union list)'], '2->3'],
    ]);
    expect(r.text).toBe([
      'Restoring from savepoint /sp (checkpoint 7 of job old, taken 1970-01-01T00:00:00.000Z)',
      'State restored, matched by operator uid:',
      '  UID      OPERATOR       STATE                           PARALLELISM',
      '  numbers  numbers        generator-splits (union list)   2 -> 3',
      '  sum      Sum(count)     reduce (value)                  2 -> 3',
      '  sink     FileSink(out)  file-sink-pending (union list)  2 -> 3',
      'Compatible.',
    ].join('\n'));
  });

  it('in-flight data of an unaligned checkpoint: restored at another parallelism, refused into a changed graph', () => {
    const withChannels = () => {
      const s = saved();
      s.kind = 'CHECKPOINT';
      s.handles.v2[0].states = [...(s.handles.v2[0].states ?? []), { operator_uid: 'sum', name: 'in-flight data', kind: 'channel', keyed: false }];
      return s;
    };
    const rescaled = checkCompatibility(withChannels(), job(3), { allowNonRestoredState: false });
    expect(rescaled.refused).toBe(false);
    expect(rescaled.restored.find((x) => x.saved.uid === 'sum')?.saved.states).toEqual(['reduce (value)', 'in-flight data (channel)']);
    // A stateless filter chained after the source: the recorded output edge of v1 would no longer line up.
    const changed = checkCompatibility(withChannels(), job(2, (vs) => vs[0].operators.push(op('filter-3', 'filter', 'Filter', { uid_set: false }))), { allowNonRestoredState: true });
    expect(changed.refused).toBe(true);
    expect(changed.problems).toEqual([
      'checkpoint 7 holds records that were in flight when it was taken (an unaligned checkpoint), which replay only into the same job graph ' +
        '(same operators, chaining and keyBy; the parallelism may change), but task v1: numbers -> map-2 is v1: numbers -> map-2 -> filter-3 now: ' +
        'resume it unchanged with execution.checkpointing.unaligned.enabled=false, take a savepoint (aligned then), and start the changed job from that savepoint',
    ]);
    // A broadcast edge: every consumer has its own copy in flight; only the old parallelism fits.
    const broadcast = (p: number) => ({ ...job(p), edges: [{ source: 'v1', target: 'v2', partitioning: 'BROADCAST' as const, input_index: 0 }] });
    expect(checkCompatibility(withChannels(), broadcast(2), { allowNonRestoredState: false }).refused).toBe(false);
    expect(checkCompatibility(withChannels(), broadcast(3), { allowNonRestoredState: false }).problems).toEqual([
      'checkpoint 7 holds records that were in flight when it was taken (an unaligned checkpoint), and those on the broadcast edge "numbers -> Map" -> ' +
        '"Sum -> Map -> Sink" (a copy per consumer) cannot be redistributed to another parallelism: resume with "numbers -> Map" at 2 and "Sum -> Map -> Sink" at 2 subtasks as before, ' +
        'or resume it unchanged with execution.checkpointing.unaligned.enabled=false, take a savepoint (aligned then), and start the job at the new parallelism from that savepoint',
    ]);
    expect(checkCompatibility(saved(), broadcast(3), { allowNonRestoredState: false }).refused).toBe(false);
    // The same change without in-flight data is fine.
    expect(checkCompatibility(saved(), job(2, (vs) => vs[0].operators.push(op('filter-3', 'filter', 'Filter', { uid_set: false }))), { allowNonRestoredState: true }).refused).toBe(false);
  });

  it('a stateful operator that lost its uid: its state would be dropped, refused, and the report names it and the operator without uid', () => {
    const graph = job(2, (vs) => Object.assign(vs[1].operators[0], { uid: 'reduce-4', uid_set: false }));
    const r = checkCompatibility(saved(), graph, { allowNonRestoredState: false });
    expect(r.refused).toBe(true);
    expect(r.dropped.map((d) => d.uid)).toEqual(['sum']);
    expect(r.withoutUid.map((o) => o.uid)).toEqual(['reduce-4']);
    expect(r.text).toContain('State that would be dropped, no operator has its uid:\n  UID  WAS                  STATE\n  sum  Sum(count) (reduce)  reduce (value)');
    expect(r.text).toContain(`  Hint: "sum" (Sum(count)) may be Sum(count), which has no uid now: give it .uid('sum')`);
    expect(r.text).toContain('  reduce-4     Sum(count) (reduce)');
    expect(r.problems).toEqual(['the state of 1 operator(s) ("sum") has no operator with that uid in the job; give the operator its old uid, or start with --allow-non-restored-state to drop that state']);
  });

  it('--allow-non-restored-state: the same job starts, the report says what is dropped', () => {
    const graph = job(2, (vs) => Object.assign(vs[1].operators[0], { uid: 'reduce-4', uid_set: false }));
    const r = checkCompatibility(saved(), graph, { allowNonRestoredState: true });
    expect(r.refused).toBe(false);
    expect(r.text).toContain('State dropped (--allow-non-restored-state), no operator has its uid:');
    expect(r.text.endsWith('Compatible.')).toBe(true);
  });

  it('a changed max parallelism of keyed state is refused; of operator state alone it is not', () => {
    const keyed = checkCompatibility(saved(), job(2, (vs) => (vs[1].max_parallelism = 64)), { allowNonRestoredState: false });
    expect(keyed.problems).toEqual([
      'operator "sum" (Sum(count)): max parallelism 64 differs from the saved 128; it fixes the key groups of keyed state, so it cannot change (set pipeline.max-parallelism or setMaxParallelism back to 128)',
    ]);
    expect(checkCompatibility(saved(), job(2, (vs) => (vs[0].max_parallelism = 64)), { allowNonRestoredState: false }).refused).toBe(false);
  });

  it('state of the wrong kind: another kind of operator under the uid, or keyed state into an operator that is not keyed', () => {
    const kind = checkCompatibility(saved(), job(2, (vs) => Object.assign(vs[1].operators[0], { kind: 'process', name: 'Process' })), { allowNonRestoredState: false });
    expect(kind.problems).toEqual(['operator "sum" was a reduce operator (Sum(count)) and is a process operator (Process) now: its state reduce (value) was written by another kind of operator']);
    const notKeyed = checkCompatibility(saved(), job(2, (vs) => Object.assign(vs[1].operators[0], { keyed: false })), { allowNonRestoredState: false });
    expect(notKeyed.problems).toEqual(['operator "sum" (Sum(count)) holds keyed state but no longer follows a keyBy: keyed state can only be restored into a keyed operator']);
  });

  it('new operators (stateless or with new uids) need no state and are not reported', () => {
    const graph = job(2, (vs) => vs.push({ id: 'v3', name: 'seen', parallelism: 2, max_parallelism: 128, is_source: false, operators: [op('seen', 'process', 'seen', { keyed: true })] }));
    const r = checkCompatibility(saved(), graph, { allowNonRestoredState: false });
    expect(r.refused).toBe(false);
    expect(r.restored.map((x) => x.saved.uid)).toEqual(['numbers', 'sum', 'sink']);
  });
});

describe('restore plan: which state files a vertex reads', () => {
  it('matches by uid across a changed chaining, in one order for every subtask', () => {
    // The sink moved out of v2 into a vertex of its own (v3).
    const graph = job(3, (vs) => {
      vs[1].operators = vs[1].operators.filter((o) => o.uid !== 'sink');
      vs.push({ id: 'v3', name: 'Sink', parallelism: 1, max_parallelism: 128, is_source: false, operators: [op('sink', 'sink', 'FileSink(out)')] });
    });
    const snapshot = saved();
    expect(restoreHandlesFor(snapshot, graph.vertices[0]).map((h) => h.path)).toEqual(['/sp/v1-0.state', '/sp/v1-1.state']);
    expect(restoreHandlesFor(snapshot, graph.vertices[1]).map((h) => h.path)).toEqual(['/sp/v2-0.state', '/sp/v2-1.state']);
    expect(restoreHandlesFor(snapshot, graph.vertices[2]).map((h) => h.path)).toEqual(['/sp/v2-0.state', '/sp/v2-1.state']);
    expect(restoreHandlesFor(snapshot, { id: 'v9', name: 'new', parallelism: 1, max_parallelism: 128, is_source: false, operators: [op('fresh', 'map', 'Map')] })).toEqual([]);
  });

  it("keeps each subtask's changelog chain in the order it was written (chk10's delta after chk9's materialisation)", () => {
    const chain = (kg: number, name: string): StateHandle => ({ operator_uid: '*', path: `/sp/${name}`, size: 1, checksum: 'x', key_group_start: kg, key_group_end: kg + 63 });
    const snapshot = saved();
    snapshot.handles.v2 = [
      chain(64, 'v2-1.state'), chain(64, 'chk8-v2-1-0-full.state'), chain(64, 'chk9-v2-1-0-delta.state'),
      chain(0, 'v2-0.state'), chain(0, 'chk9-v2-0-0-full.state'), chain(0, 'chk9-v2-0-0-full-1.state'), chain(0, 'chk10-v2-0-0-delta.state'), chain(0, 'chk11-v2-0-0-delta.state'),
    ];
    expect(restoreHandlesFor(snapshot, job(2).vertices[1]).map((h) => h.path.slice(4))).toEqual([
      'v2-0.state', 'chk9-v2-0-0-full.state', 'chk9-v2-0-0-full-1.state', 'chk10-v2-0-0-delta.state', 'chk11-v2-0-0-delta.state',
      'v2-1.state', 'chk8-v2-1-0-full.state', 'chk9-v2-1-0-delta.state',
    ]);
  });

  it('metadata written before uids were recorded restores by vertex id', () => {
    const { vertices: _v, ...legacy } = saved();
    expect(restoreHandlesFor(legacy, job(2).vertices[1]).map((h) => h.path)).toEqual(['/sp/v2-1.state', '/sp/v2-0.state']);
  });
});

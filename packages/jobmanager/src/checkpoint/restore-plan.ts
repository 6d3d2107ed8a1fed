/**
 * Which state files each vertex of a (possibly changed, possibly rescaled) job reads on
 * restore. State is matched by operator uid, not by vertex: chaining may have grouped the
 * operators differently. Every subtask of a vertex gets the same list in the same order;
 * the task keeps its own operators' state, its key groups, and its share of split lists.
 */
import type { JobVertex, StateHandle } from '@weir/core';
import { chainFilePosition, type SnapshotMetadata } from '@weir/runtime';

export function restoreHandlesFor(snapshot: SnapshotMetadata, vertex: JobVertex): StateHandle[] {
  // Metadata from before savepoints: no uids recorded, so vertices match by id (same job).
  if (!snapshot.vertices) return snapshot.handles[vertex.id] ?? [];
  const uids = new Set(vertex.operators.map((o) => o.uid));
  const out: StateHandle[] = [];
  for (const old of snapshot.vertices) {
    if (!old.operators.some((o) => uids.has(o.uid))) continue;
    const handles = [...(snapshot.handles[old.id] ?? [])];
    out.push(...handles.sort(restoreOrder));
  }
  return out;
}

/**
 * By key group, then a subtask's own file before its changelog chain, the chain in the order
 * it was written: a delta applied before its materialisation would be overwritten by it.
 */
function restoreOrder(a: StateHandle, b: StateHandle): number {
  if (a.key_group_start !== b.key_group_start) return a.key_group_start - b.key_group_start;
  const [pa, pb] = [chainFilePosition(a.path), chainFilePosition(b.path)];
  if (!pa || !pb) return pa ? 1 : pb ? -1 : a.path.localeCompare(b.path);
  return pa[0] - pb[0] || pa[1] - pb[1];
}

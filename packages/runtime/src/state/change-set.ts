import type { TableKey } from './keyed-backend';

/**
 * Keys written or removed since the last capture, per state and key group: what an
 * incremental checkpoint writes. Past `limit` keys it stops tracking and says so, so that
 * a job changing most of its keys gets a full checkpoint instead of a huge set in memory.
 */
export class ChangeSet {
  readonly states = new Map<string, Map<number, Set<TableKey>>>();
  size = 0;
  overflowed = false;

  constructor(private readonly limit = 1_000_000) {}

  mark(state: string, keyGroup: number, key: TableKey): void {
    if (this.overflowed) return;
    let groups = this.states.get(state);
    if (!groups) this.states.set(state, (groups = new Map()));
    let keys = groups.get(keyGroup);
    if (!keys) groups.set(keyGroup, (keys = new Set()));
    const before = keys.size;
    keys.add(key);
    if (keys.size !== before && ++this.size > this.limit) {
      this.overflowed = true;
      this.states.clear();
    }
  }

  /** Adds another set's keys (an aborted checkpoint's changes go into the next one). */
  addAll(other: ChangeSet): void {
    if (other.overflowed) {
      this.overflowed = true;
      this.states.clear();
      return;
    }
    for (const [state, groups] of other.states) for (const [kg, keys] of groups) for (const k of keys) this.mark(state, kg, k);
  }
}

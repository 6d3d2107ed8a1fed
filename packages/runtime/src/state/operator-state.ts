import type { ListState } from '@weir/api';

/**
 * Operator (non-keyed) list state of one operator. Two ways to redistribute on restore, as
 * Flink's: union state gives every subtask all entries of every old subtask (sources pick
 * their splits from it); split state is divided evenly, each entry to exactly one subtask.
 */
export class OperatorStateStore {
  private readonly union = new Map<string, unknown[]>();
  private readonly split = new Map<string, unknown[]>();

  getUnionListState<T>(name: string): ListState<T> {
    return listView<T>(this.union, name);
  }

  getListState<T>(name: string): ListState<T> {
    return listView<T>(this.split, name);
  }

  snapshot(): { union: Record<string, unknown[]>; split?: Record<string, unknown[]> } {
    const copy = (m: Map<string, unknown[]>) => Object.fromEntries([...m].map(([k, v]) => [k, [...v]]));
    return this.split.size > 0 ? { union: copy(this.union), split: copy(this.split) } : { union: copy(this.union) };
  }

  /** Union: every subtask sees all entries of every old subtask. */
  restore(snapshots: Record<string, unknown[]>[]): void {
    for (const snap of snapshots) {
      for (const [name, values] of Object.entries(snap)) this.union.set(name, [...(this.union.get(name) ?? []), ...values]);
    }
  }

  /**
   * Split: the entries of all old subtasks, in the order every new subtask reads them,
   * are cut into `parallelism` contiguous runs of nearly equal length; this subtask
   * takes run number `subtask`.
   */
  restoreSplit(snapshots: Record<string, unknown[]>[], subtask: number, parallelism: number): void {
    const all = new Map<string, unknown[]>();
    for (const snap of snapshots) for (const [name, values] of Object.entries(snap)) all.set(name, [...(all.get(name) ?? []), ...values]);
    for (const [name, values] of all) {
      const from = Math.floor((values.length * subtask) / parallelism);
      const to = Math.floor((values.length * (subtask + 1)) / parallelism);
      this.split.set(name, values.slice(from, to));
    }
  }
}

function listView<T>(lists: Map<string, unknown[]>, name: string): ListState<T> {
  if (!lists.has(name)) lists.set(name, []);
  const get = () => lists.get(name) as T[];
  return {
    get: () => [...get()],
    add: (v) => void get().push(v),
    update: (values) => void lists.set(name, [...values]),
    clear: () => void lists.set(name, []),
  };
}

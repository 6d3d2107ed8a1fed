import type { ListState } from '@weir/api';

/** Operator (non-keyed) list state with union redistribution, as sources use it. */
export class OperatorStateStore {
  private readonly lists = new Map<string, unknown[]>();

  getUnionListState<T>(name: string): ListState<T> {
    if (!this.lists.has(name)) this.lists.set(name, []);
    const get = () => this.lists.get(name) as T[];
    return {
      get: () => [...get()],
      add: (v) => void get().push(v),
      update: (values) => void this.lists.set(name, [...values]),
      clear: () => void this.lists.set(name, []),
    };
  }

  snapshot(): Record<string, unknown[]> {
    return Object.fromEntries([...this.lists].map(([k, v]) => [k, [...v]]));
  }

  /** Union: every subtask sees all entries of every old subtask. */
  restore(snapshots: Record<string, unknown[]>[]): void {
    for (const snap of snapshots) {
      for (const [name, values] of Object.entries(snap)) {
        const list = this.lists.get(name) ?? [];
        list.push(...values);
        this.lists.set(name, list);
      }
    }
  }
}

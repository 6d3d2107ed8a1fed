import { describe, expect, it } from 'vitest';
import { OperatorStateStore } from './operator-state';

/** Snapshots of `old` subtasks holding `per` entries each, as a restore reads them. */
function oldSnapshots(old: number, per: number, kind: 'union' | 'split') {
  return Array.from({ length: old }, (_, s) => {
    const store = new OperatorStateStore();
    const list = kind === 'union' ? store.getUnionListState<string>('l') : store.getListState<string>('l');
    for (let i = 0; i < per; i++) list.add(`${s}.${i}`);
    const snap = store.snapshot();
    return kind === 'union' ? snap.union : (snap.split as Record<string, unknown[]>);
  });
}

describe('operator list state redistribution', () => {
  it.each([[2, 3], [3, 1], [1, 4], [4, 3], [3, 7]])('split state from %i to %i subtasks: every entry to exactly one subtask, evenly', (from, to) => {
    const snaps = oldSnapshots(from, 5, 'split');
    const taken = Array.from({ length: to }, (_, s) => {
      const store = new OperatorStateStore();
      store.restoreSplit(snaps, s, to);
      return store.getListState<string>('l').get();
    });
    const all = taken.flat().sort();
    const expected = snaps.flatMap((s) => s.l as string[]).sort();
    expect(all).toEqual(expected);
    const sizes = taken.map((t) => t.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('union state gives every new subtask every entry of every old subtask', () => {
    const snaps = oldSnapshots(3, 2, 'union');
    for (let s = 0; s < 2; s++) {
      const store = new OperatorStateStore();
      store.restore(snaps);
      expect(store.getUnionListState<string>('l').get().sort()).toEqual(['0.0', '0.1', '1.0', '1.1', '2.0', '2.1']);
    }
  });

  it('a snapshot is a copy: later adds do not change it', () => {
    const store = new OperatorStateStore();
    const list = store.getListState<number>('l');
    list.add(1);
    const snap = store.snapshot();
    list.add(2);
    expect(snap.split).toEqual({ l: [1] });
  });
});

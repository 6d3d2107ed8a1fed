import { describe, expect, it } from 'vitest';
import type { OperatorContext, Output, SourceOperator } from '../operator';
import type { ListState, StateDescriptor } from '../state';
import { generatorSource, sequenceSource } from './sources';

type Lists = Record<string, unknown[]>;

/** A context whose union list state starts from `restored` (all old subtasks' entries). */
function context(subtask: number, parallelism: number, restored?: Lists): { ctx: OperatorContext; lists: Lists } {
  const lists: Lists = structuredClone(restored ?? {});
  const ctx: OperatorContext = {
    jobId: 'job', taskName: `src#${subtask}`, subtask, parallelism, maxParallelism: 128, attempt: 0, isRestored: restored !== undefined, config: {},
    getState<S>(_d: StateDescriptor<S>): S {
      throw new Error('not keyed');
    },
    getUnionListState<T>(name: string): ListState<T> {
      lists[name] ??= [];
      return { get: () => [...(lists[name] as T[])], add: (v) => void lists[name].push(v), update: (v) => void (lists[name] = [...v]), clear: () => void (lists[name] = []) };
    },
    getListState<T>(): ListState<T> {
      throw new Error('unused');
    },
    currentKey: () => undefined,
  };
  return { ctx, lists };
}

/** Runs `parallelism` subtasks of a source, each for at most `steps` emit calls; returns what they emitted and their union state. */
async function run(make: () => SourceOperator<number>, parallelism: number, steps: number, restored?: Lists): Promise<{ emitted: number[]; state: Lists }> {
  const emitted: number[] = [];
  const out: Output<number> = { collect: (v) => emitted.push(v) };
  const state: Lists = {};
  for (let s = 0; s < parallelism; s++) {
    const source = make();
    const { ctx, lists } = context(s, parallelism, restored);
    await source.open(ctx);
    for (let i = 0; i < steps; i++) if ((await source.emit(out, 7)).status === 'end') break;
    source.snapshotState?.(1);
    for (const [k, v] of Object.entries(lists)) (state[k] ??= []).push(...v);
  }
  return { emitted, state };
}

describe('source positions survive rescaling: every record exactly once', () => {
  it.each([
    ['generator', () => generatorSource((i) => i, { count: 500 })],
    ['sequence', () => sequenceSource(0, 499)],
  ])('%s: 2 -> 3 -> 1 -> 4 subtasks', async (_name, make) => {
    const all: number[] = [];
    let state: Lists | undefined;
    for (const [p, steps] of [[2, 5], [3, 4], [1, 6], [4, 1000]] as const) {
      const r = await run(make, p, steps, state);
      all.push(...r.emitted);
      state = r.state;
    }
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it.each([
    ['generator', () => generatorSource((i) => i, { count: 10_000 })],
    ['sequence', () => sequenceSource(0, 9_999)],
  ])('%s rescaled up: the unfinished splits are cut so that every new subtask reads', async (_name, make) => {
    const first = await run(make, 2, 3);
    for (const p of [3, 4, 7]) {
      const emitted: number[][] = [];
      for (let s = 0; s < p; s++) {
        const source = make();
        await source.open(context(s, p, first.state).ctx);
        const mine: number[] = [];
        await source.emit({ collect: (v) => mine.push(v) }, 5);
        emitted.push(mine);
      }
      expect(emitted.every((e) => e.length === 5)).toBe(true);
      expect(new Set(emitted.flat()).size).toBe(5 * p); // no record twice
    }
  });
});

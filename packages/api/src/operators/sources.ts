import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { ListState } from '../state';
import type { OperatorContext, Output, SourceOperator, SourceStep } from '../operator';

/** end exclusive; `step` is the stride between records (the generator's old parallelism). */
interface Split { index: number; next: number; end: number; step?: number }

const remaining = (s: Split) => Math.max(0, Math.ceil((s.end - s.next) / (s.step ?? 1)));

/** A sequence split cut into two contiguous ranges. */
const halveRange = (s: Split): [Split, Split] => {
  const mid = s.next + Math.floor((s.end - s.next) / 2);
  return [{ ...s, end: mid }, { ...s, next: mid }];
};

/** A generator split cut into two interleaved ones: every other record each. */
const halveStride = (s: Split): [Split, Split] => {
  const step = s.step ?? 1;
  return [{ ...s, step: step * 2 }, { ...s, next: s.next + step, step: step * 2 }];
};

/**
 * Splits are kept in union list state: after a restore every subtask sees every old
 * subtask's splits and takes those whose index maps to it, so positions survive failover
 * and rescaling. At a parallelism above the number of unfinished splits, the largest are
 * halved until every subtask has one (every subtask computes the same cut from the same
 * state), so a job rescaled up reads with all its subtasks.
 */
function ownedSplits(ctx: OperatorContext, state: ListState<Split>, initial: () => Split[], halve: (s: Split) => [Split, Split]): Split[] {
  if (!ctx.isRestored) return initial();
  let splits = state.get().filter((s) => remaining(s) > 0).sort((a, b) => a.index - b.index || a.next - b.next);
  if (splits.length < ctx.parallelism) {
    while (splits.length < ctx.parallelism) {
      const largest = splits.reduce<Split | undefined>((best, s) => (!best || remaining(s) > remaining(best) ? s : best), undefined);
      if (!largest || remaining(largest) < 2) break;
      const at = splits.indexOf(largest);
      splits = [...splits.slice(0, at), ...halve(largest), ...splits.slice(at + 1)];
    }
    splits = splits.map((s, index) => ({ ...s, index }));
  }
  return splits.filter((s) => s.index % ctx.parallelism === ctx.subtask).map((s) => ({ ...s }));
}

/** Numbers from..to inclusive, split evenly over the subtasks; bounded and replayable. */
export function sequenceSource(from: number, to: number): SourceOperator<number> {
  let splits: Split[] = [];
  let state: ListState<Split>;
  return {
    open(ctx) {
      state = ctx.getUnionListState<Split>('sequence-splits');
      splits = ownedSplits(ctx, state, () => {
        const total = Math.max(0, to - from + 1);
        const start = from + Math.floor((total * ctx.subtask) / ctx.parallelism);
        const end = from + Math.floor((total * (ctx.subtask + 1)) / ctx.parallelism);
        return [{ index: ctx.subtask, next: start, end }];
      }, halveRange);
    },
    emit(out, max) {
      const split = splits.find((s) => s.next < s.end);
      if (!split) return { status: 'end' };
      const stop = Math.min(split.end, split.next + max);
      for (let n = split.next; n < stop; n++) out.collect(n);
      split.next = stop;
      return { status: 'more' };
    },
    snapshotState() {
      state.update(splits.map((s) => ({ ...s })));
    },
  };
}

type GeneratorLoop = (fn: (index: number) => unknown, out: Output<unknown>, split: Split, budget: number, parallelism: number) => number;

/**
 * The generator's loop over records, compiled for each source (new Function): its calls
 * into the job's function and the task's output are then this job's own call sites, which
 * V8 can inline, rather than one site that sees every job ever run on the slot's thread.
 * Returns how many records it emitted.
 */
function generatorLoop(): GeneratorLoop {
  return new Function(`return function generate(fn, out, split, budget, parallelism) {
    let i = 0;
    for (; i < budget && split.next < split.end; i++) {
      out.collect(fn(split.next));
      // The split's own stride: after a rescale it keeps the parallelism that created it.
      split.next += split.step ?? parallelism;
    }
    return i;
  };`)() as GeneratorLoop;
}

export interface GeneratorOptions {
  /** Records per second over all subtasks; unlimited when unset. */
  ratePerSecond?: number;
  /** Total number of records; unbounded when unset. */
  count?: number;
}

/**
 * A deterministic generator: record i is fn(i). Subtask s produces i = s, s+p, s+2p, ...
 * so the same i always comes from the same place and replays identically.
 */
export function generatorSource<T>(fn: (index: number) => T, options: GeneratorOptions): SourceOperator<T> {
  const generate = generatorLoop();
  let state: ListState<Split>;
  let splits: Split[] = [];
  let parallelism = 1;
  let startedAt = 0;
  let emittedSinceStart = 0;
  return {
    open(ctx) {
      parallelism = ctx.parallelism;
      state = ctx.getUnionListState<Split>('generator-splits');
      const end = options.count ?? Number.MAX_SAFE_INTEGER;
      splits = ownedSplits(ctx, state, () => [{ index: ctx.subtask, next: ctx.subtask, end, step: parallelism }], halveStride);
      startedAt = Date.now();
    },
    emit(out, max): SourceStep {
      const split = splits.find((s) => s.next < s.end);
      if (!split) return { status: 'end' };
      let budget = max;
      if (options.ratePerSecond) {
        const perSubtask = options.ratePerSecond / parallelism;
        const allowed = Math.floor(((Date.now() - startedAt) / 1000) * perSubtask) - emittedSinceStart;
        if (allowed <= 0) return { status: 'idle', waitMs: Math.max(1, Math.ceil(1000 / perSubtask)) };
        budget = Math.min(max, allowed);
      }
      emittedSinceStart += generate(fn, out, split, budget, parallelism);
      return { status: 'more' };
    },
    snapshotState() {
      state.update(splits.map((s) => ({ ...s })));
    },
  };
}

/** Elements of an array, in order, from one subtask; replayable by offset. */
export function collectionSource<T>(items: readonly T[]): SourceOperator<T> {
  return arraySource('collection-offset', () => items);
}

/** Lines of a text file, from one subtask; replayable by line number. */
export function textFileSource(path: string): SourceOperator<string> {
  return arraySource('text-file-offset', () => {
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  });
}

function arraySource<T>(stateName: string, load: () => readonly T[]): SourceOperator<T> {
  let items: readonly T[] = [];
  let offset = 0;
  let state: ListState<number>;
  return {
    open(ctx) {
      state = ctx.getUnionListState<number>(stateName);
      items = load();
      offset = ctx.isRestored ? (state.get()[0] ?? 0) : 0;
    },
    emit(out, max) {
      if (offset >= items.length) return { status: 'end' };
      const stop = Math.min(items.length, offset + max);
      for (; offset < stop; offset++) out.collect(items[offset]);
      return { status: 'more' };
    },
    snapshotState() {
      state.update([offset]);
    },
  };
}

/**
 * Lines from a TCP socket. A socket cannot be replayed: after a recovery the source
 * reconnects and reads on from what the server sends next; lines in flight at the
 * failure are lost (at-most-once for this source).
 */
export function socketSource(host: string, port: number): SourceOperator<string> {
  const pending: string[] = [];
  let partial = '';
  let ended = false;
  let socket: net.Socket | undefined;
  let error: Error | undefined;
  return {
    open() {
      socket = net.connect({ host, port });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) pending.push(line.replace(/\r$/, ''));
      });
      socket.on('end', () => {
        if (partial) pending.push(partial);
        partial = '';
        ended = true;
      });
      socket.on('error', (err) => {
        error = new Error(`socketTextStream ${host}:${port}: ${err.message}`);
      });
    },
    emit(out, max): SourceStep {
      if (error) throw error;
      let n = 0;
      while (n < max && pending.length > 0) {
        out.collect(pending.shift() as string);
        n++;
      }
      if (pending.length > 0) return { status: 'more' };
      if (ended) return { status: 'end' };
      return n > 0 ? { status: 'more' } : { status: 'idle', waitMs: 5 };
    },
    close() {
      socket?.destroy();
    },
  };
}

export type { Output };

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ValueStateDescriptor, type OperatorContext, type Sink, type StreamExecutionEnvironment, type ValueState } from '@weir/api';

/**
 * State benchmark job (scripts/bench/state.mjs; its Flink twin is StateJob in
 * bench/peers/flink): the keyed running sum over KEYS keys. The generator's first
 * KEYS/1000 elements each expand to 1000 distinct keys (the state is loaded at full
 * speed); every later element is one record with a pseudo-random key, at RATE elements
 * per second, so that RATE x interval keys change per checkpoint interval.
 * The sink discards; it writes `first-<subtask>-<attempt>` with the wall clock of its
 * first record after a restore (restore time to first output) and
 * `loaded-<subtask>-<attempt>` when its subtask's first steady record arrives.
 * Args: STATS_DIR KEYS RATE CHECKPOINT_MS
 */
const BLOCK = 1000;

interface KeyedValue { key: number; value: number }
interface KeyedSum { key: number; sum: number; steady: boolean }

/** The same pseudo-random key for element i in every process and run. */
function scatter(i: number, keys: number): number {
  let h = Math.imul(i ^ (i >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return ((h ^ (h >>> 16)) >>> 0) % keys;
}

function markingSink(statsDir: string): Sink<KeyedSum> {
  return {
    name: 'discard',
    createOperator: () => {
      let ctx: OperatorContext;
      let first = true;
      let loaded = false;
      return {
        open(c: OperatorContext) {
          ctx = c;
          mkdirSync(statsDir, { recursive: true });
        },
        processElement(r: KeyedSum) {
          // A later attempt is a restart (isRestored is for operators that had state of their own).
          if (first && ctx.attempt > 0) writeFileSync(path.join(statsDir, `first-${ctx.subtask}-${ctx.attempt}`), String(Date.now()));
          first = false;
          if (!loaded && r.steady) {
            loaded = true;
            writeFileSync(path.join(statsDir, `loaded-${ctx.subtask}-${ctx.attempt}`), String(Date.now()));
          }
        },
      };
    },
  };
}

export default function benchState(env: StreamExecutionEnvironment, args: string[]): void {
  const [statsDir, k = '1000000', rate = '20000', checkpointMs = '1000'] = args;
  if (!statsDir) throw new Error('usage: bench-state.ts -- STATS_DIR KEYS RATE CHECKPOINT_MS');
  const keys = Number(k);
  const blocks = Math.ceil(keys / BLOCK);
  env.setJobName(`bench-state-${keys}-keys`);
  env.enableCheckpointing(Number(checkpointMs));
  let sum: ValueState<number>;
  env
    .generate((i) => i, { ratePerSecond: Number(rate) })
    .name('generator')
    .uid('generator')
    .flatMap<KeyedValue>((i: number, out) => {
      if (i < blocks) {
        for (let key = i * BLOCK; key < Math.min(keys, (i + 1) * BLOCK); key++) out.collect({ key, value: 1 });
      } else {
        out.collect({ key: scatter(i, keys), value: 2 });
      }
    })
    .uid('expand')
    .keyBy((r) => r.key)
    .process<KeyedSum>({
      open(ctx) {
        sum = ctx.getState(new ValueStateDescriptor<number>('sum'));
      },
      processElement(r, _ctx, out) {
        const s = (sum.value() ?? 0) + r.value;
        sum.update(s);
        out.collect({ key: r.key, sum: s, steady: r.value === 2 });
      },
    })
    .name('sum')
    .uid('sum')
    .sinkTo(markingSink(statsDir))
    .uid('discard');
}

import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ValueStateDescriptor, type ValueState, type OperatorContext, type Sink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * Benchmark job, the Weir twin of bench/peers/flink ThroughputJob:
 * generator i -> {key: i % keys, value: 1} -> keyBy(key) -> running sum in a ValueState,
 * emitting {key, sum} per record -> a sink that discards, counting records and appending
 * "epochMillis count" to STATS_DIR/counts-<subtask>-<attempt>.log at most every 200 ms
 * (checked every 1024 records), so a harness can compute the rate from the sink's clock.
 * Args: STATS_DIR [KEYS=10000] [CHECKPOINT_MS=0 (off)] [RATE_PER_SOURCE_SUBTASK=0 (unthrottled)]
 * Parallelism comes from `weir run -p`.
 */
export interface KeyedValue { key: number; value: number }
export interface KeyedSum { key: number; sum: number }

/** generator -> keyBy -> running sum (shared with bench-recovery.ts). */
export function runningSumPipeline(env: StreamExecutionEnvironment, keys: number, ratePerSourceSubtask: number) {
  let state: ValueState<number>;
  const rate = ratePerSourceSubtask > 0 ? ratePerSourceSubtask * env.getParallelism() : undefined;
  return env
    .generate((i): KeyedValue => ({ key: i % keys, value: 1 }), rate ? { ratePerSecond: rate } : {})
    .name('generator')
    .uid('generator')
    .keyBy((r) => r.key)
    .process<KeyedSum>({
      // As Flink's RunningSum: a ValueState handle taken in open() follows the current key.
      open(ctx) {
        state = ctx.getState(new ValueStateDescriptor<number>('sum'));
      },
      processElement(r, _ctx, out) {
        const sum = (state.value() ?? 0) + r.value;
        state.update(sum);
        out.collect({ key: r.key, sum });
      },
    })
    .name('sum')
    .uid('sum');
}

/** Counts records; a Sink with a factory, so every subtask gets its own counter. */
function countingSink(statsDir: string): Sink<KeyedSum> {
  return {
    name: 'discard',
    createOperator: () => {
      let file = '';
      let count = 0;
      let lastReport = 0;
      const report = (now: number) => {
        lastReport = now;
        appendFileSync(file, `${now} ${count}\n`);
      };
      return {
        open(ctx: OperatorContext) {
          mkdirSync(statsDir, { recursive: true });
          file = path.join(statsDir, `counts-${ctx.subtask}-${ctx.attempt}.log`);
          report(Date.now());
        },
        processElement() {
          if ((++count & 1023) === 0) {
            const now = Date.now();
            if (now - lastReport >= 200) report(now);
          }
        },
        close() {
          if (file) report(Date.now());
        },
      };
    },
  };
}

export default function benchThroughput(env: StreamExecutionEnvironment, args: string[]): void {
  const [statsDir, keys = '10000', checkpointMs = '0', rate = '0'] = args;
  if (!statsDir) throw new Error('usage: bench-throughput.ts -- STATS_DIR [KEYS] [CHECKPOINT_MS] [RATE_PER_SOURCE_SUBTASK]');
  env.setJobName(`bench-throughput-${keys}-keys-${Number(checkpointMs) > 0 ? `ckpt-${checkpointMs}ms` : 'no-ckpt'}`);
  if (Number(checkpointMs) > 0) env.enableCheckpointing(Number(checkpointMs));
  runningSumPipeline(env, Number(keys), Number(rate)).sinkTo(countingSink(statsDir)).uid('discard');
}

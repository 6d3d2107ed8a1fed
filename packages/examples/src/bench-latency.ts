import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ValueStateDescriptor, type ValueState, type OperatorContext, type Sink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * Latency benchmark job (scripts/bench/latency.mjs), the Weir twin of bench/peers/flink
 * LatencyJob: generator i -> {key: i % keys, value: 1, ts: wall clock ms at emission} ->
 * keyBy(key) (a network shuffle between the TaskManagers) -> running sum in a ValueState,
 * emitting {key, sum, ts} -> a sink that puts (now - ts) of every record into a log-bucket
 * histogram and, once a second, appends that second's histogram as one JSON line to
 * OUT_DIR/latency-<subtask>-<attempt>.jsonl (format: scripts/bench/lib/latency-histogram.mjs).
 * Args: OUT_DIR [KEYS=10000] [CHECKPOINT_MS=1000] [RATE=0 (records/s over all source
 * subtasks, 0 = unthrottled)] [BUFFER_TIMEOUT_MS=- (the configured default)] [SEGMENT_SIZE=-]
 * [HOPS=1: with 2, the sum's output is rebalanced to the sink, a second network hop whose
 * sender is not a source]
 */
export interface Stamped { key: number; value: number; ts: number }
export interface StampedSum { key: number; sum: number; ts: number }

// timeOrigin + now() is the wall clock with sub-millisecond resolution; every thread of
// every process on this machine derives it from the same monotonic clock.
const wallMs = (): number => performance.timeOrigin + performance.now();

const SUB_BUCKETS = 128;
const HALF = SUB_BUCKETS / 2;
/** Bucket of a latency in microseconds: exact below 128 us, then 64 buckets per power of two (< 1.6 % error). */
function bucketOf(us: number): number {
  if (us < SUB_BUCKETS) return us;
  const shift = 31 - Math.clz32(us) - 6;
  return SUB_BUCKETS + (shift - 1) * HALF + ((us >>> shift) - HALF);
}

function latencySink(outDir: string): Sink<StampedSum> {
  return {
    name: 'latency',
    createOperator: () => {
      let file = '';
      let subtask = 0;
      let attempt = 0;
      let counts = new Map<number, number>();
      let n = 0;
      let maxUs = 0;
      let from = 0;
      const report = (now: number) => {
        const h: Record<number, number> = {};
        for (const [b, c] of counts) h[b] = c;
        appendFileSync(file, JSON.stringify({ from, to: now, subtask, attempt, n, max_us: maxUs, h }) + '\n');
        counts = new Map();
        n = 0;
        maxUs = 0;
        from = now;
      };
      return {
        open(ctx: OperatorContext) {
          mkdirSync(outDir, { recursive: true });
          subtask = ctx.subtask;
          attempt = ctx.attempt;
          file = path.join(outDir, `latency-${subtask}-${attempt}.jsonl`);
          from = wallMs();
        },
        processElement(r: StampedSum) {
          const now = wallMs();
          const us = Math.min(0x7fffffff, Math.max(0, Math.round((now - r.ts) * 1000)));
          const b = bucketOf(us);
          counts.set(b, (counts.get(b) ?? 0) + 1);
          n++;
          if (us > maxUs) maxUs = us;
          if (now - from >= 1000) report(now);
        },
        close() {
          if (file && n > 0) report(wallMs());
        },
      };
    },
  };
}

export default function benchLatency(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, keysArg = '10000', checkpointMs = '1000', rate = '0', bufferTimeout = '-', segmentSize = '-', hops = '1'] = args;
  if (!outDir || !['1', '2'].includes(hops)) throw new Error('usage: bench-latency.ts -- OUT_DIR [KEYS] [CHECKPOINT_MS] [RATE] [BUFFER_TIMEOUT_MS|-] [SEGMENT_SIZE|-] [HOPS 1|2]');
  const keys = Number(keysArg);
  env.setJobName(`bench-latency-${rate === '0' ? 'unthrottled' : `${rate}-rps`}`);
  if (Number(checkpointMs) > 0) env.enableCheckpointing(Number(checkpointMs));
  if (bufferTimeout !== '-') env.configure('execution.buffer-timeout', Number(bufferTimeout));
  if (segmentSize !== '-') env.configure('taskmanager.memory.segment-size', Number(segmentSize));
  let state: ValueState<number>;
  const sums = env
    .generate((i): Stamped => ({ key: i % keys, value: 1, ts: wallMs() }), Number(rate) > 0 ? { ratePerSecond: Number(rate) } : {})
    .name('generator')
    .uid('generator')
    .keyBy((r) => r.key)
    .process<StampedSum>({
      open(ctx) {
        state = ctx.getState(new ValueStateDescriptor<number>('sum'));
      },
      processElement(r, _ctx, out) {
        const sum = (state.value() ?? 0) + r.value;
        state.update(sum);
        out.collect({ key: r.key, sum, ts: r.ts });
      },
    })
    .name('sum')
    .uid('sum');
  (hops === '2' ? sums.rebalance() : sums).sinkTo(latencySink(outDir)).uid('latency');
}

import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * The recovery workhorse: numbers 1..N -> key (n mod K) -> running count per key ->
 * exactly-once file sink. Every key k ends with lines "k 1", "k 2", ... "k n_k" exactly
 * once, whatever fails in between. Args: outputDir [N=100000] [K=100] [ratePerSecond]
 * [checkpointMs=500].
 */
export default function keyedSum(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n = '100000', k = '100', rate = '', interval = '500'] = args;
  if (!output) throw new Error('usage: keyed-sum.ts -- OUTPUT_DIR [N] [KEYS] [RATE] [CHECKPOINT_MS]');
  const keys = Number(k);
  env.setJobName('keyed-sum');
  if (Number(interval) > 0) env.enableCheckpointing(Number(interval));
  const source = rate
    ? env.generate((i) => i + 1, { count: Number(n), ratePerSecond: Number(rate) })
    : env.fromSequence(1, Number(n));
  source
    .name('numbers')
    .uid('numbers')
    .map((i: number) => ({ key: i % keys, count: 1 }))
    .keyBy((r) => r.key)
    .sum('count')
    .uid('sum')
    .map((r) => `${r.key} ${r.count}`)
    .sinkTo(FileSink.forRowFormat<string>(output).build())
    .uid('sink');
}

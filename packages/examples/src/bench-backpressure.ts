import type { StreamExecutionEnvironment } from '@weir/api';

/**
 * Backpressure benchmark job (scripts/bench/backpressure.mjs): an unthrottled generator
 * (p=2) -> rebalance -> a sink at p=1 that spends MIN..MAX ms per record (uniformly), so
 * the sink is the bottleneck and every channel in front of it is full.
 * Args: [MIN_MS=1] [MAX_MS=2] [CHECKPOINT_MS=1000]
 */
export default function benchBackpressure(env: StreamExecutionEnvironment, args: string[]): void {
  const [minMs = '1', maxMs = '2', interval = '1000'] = args;
  const low = Number(minMs);
  const spread = Number(maxMs) - low;
  env.setJobName('bench-backpressure');
  env.enableCheckpointing(Number(interval));
  env
    .generate((i) => ({ i, payload: 'x'.repeat(64) }))
    .name('generator')
    .uid('generator')
    .setParallelism(2)
    .rebalance()
    .sinkTo(() => {
      const until = process.hrtime.bigint() + BigInt(Math.round((low + Math.random() * spread) * 1e6));
      while (process.hrtime.bigint() < until) {
        // a slow external system
      }
    })
    .name('slow-sink')
    .uid('slow-sink')
    .setParallelism(1);
}

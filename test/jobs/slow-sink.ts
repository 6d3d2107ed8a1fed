import type { StreamExecutionEnvironment } from '@weir/api';

/** An unthrottled source into a sink that takes 1 ms per record (on another TaskManager). */
export default function slowSink(env: StreamExecutionEnvironment): void {
  env.setParallelism(1);
  env
    .fromSequence(0, 1e12)
    .rebalance()
    .map((i: number) => ({ i, padding: 'x'.repeat(100) }))
    .setParallelism(2)
    .sinkTo(() => {
      const until = Date.now() + 1;
      while (Date.now() < until) {
        // a slow external system
      }
    })
    .setParallelism(2);
}

import { ValueStateDescriptor, type StreamExecutionEnvironment } from '@weir/api';

/**
 * Two sources meet in one counting task: one path is slowed down by a busy map, so the
 * barriers of a checkpoint reach the counter at different times. With alignment the
 * counter's state equals the records the sources had emitted before the barrier; without
 * it, records behind the early barrier are counted into the checkpoint too.
 */
export default function twoSpeedCount(env: StreamExecutionEnvironment, args: string[]): void {
  const [mode = 'EXACTLY_ONCE', interval = '200'] = args;
  env.setParallelism(1);
  env.enableCheckpointing(Number(interval), mode as 'EXACTLY_ONCE' | 'AT_LEAST_ONCE');
  const slow = env
    .fromSequence(0, 1e9)
    .uid('slow-source')
    .rebalance()
    .map((i: number) => {
      const until = process.hrtime.bigint() + 20_000n;
      while (process.hrtime.bigint() < until) {
        // 20 µs per record
      }
      return i;
    })
    .uid('slow-map');
  const fast = env.fromSequence(0, 1e9).uid('fast-source');
  slow
    .union(fast)
    .keyBy(() => 'all')
    .process({
      open(ctx) {
        (this as unknown as { count: import('@weir/api').ValueState<number> }).count = ctx.getState(new ValueStateDescriptor<number>('count', 0));
      },
      processElement(_value, _ctx, _out) {
        const count = (this as unknown as { count: import('@weir/api').ValueState<number> }).count;
        count.update((count.value() ?? 0) + 1);
      },
    })
    .uid('counter')
    .sinkTo(() => {});
}

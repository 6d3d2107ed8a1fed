import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * A keyed sum behind a map that takes 2 ms per record and is fed faster than that: its
 * input buffers stay full, so a barrier waits seconds behind the queued records and a
 * savepoint stays in flight long enough to kill a TaskManager under it. Args: output
 */
export default function slowBarrierSum(env: StreamExecutionEnvironment, args: string[]): void {
  const [output] = args;
  env.enableCheckpointing(600_000);
  env
    .generate((i) => i, { ratePerSecond: 5_000 })
    .uid('numbers')
    .rebalance()
    .map((i: number) => {
      const until = Date.now() + 2;
      while (Date.now() < until) {
        // a slow external call
      }
      return i % 10;
    })
    .uid('slow')
    .keyBy((key: number) => key)
    .process<string>((key, ctx, out) => out.collect(`${key}`))
    .uid('pass')
    .sinkTo(FileSink.forRowFormat<string>(output).build())
    .uid('sink');
}

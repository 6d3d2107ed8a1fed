import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * A keyed pass-through behind a map that takes 0.1 ms per record and is fed faster than
 * that: its input buffers stay full, so a barrier waits about a second behind the queued
 * records and a savepoint stays in flight long enough to kill a TaskManager under it. (Short
 * per record, so the slot's thread still answers the network between batches.) Args: output
 */
export default function slowBarrierSum(env: StreamExecutionEnvironment, args: string[]): void {
  const [output] = args;
  env.enableCheckpointing(600_000);
  env
    .generate((i) => i, { ratePerSecond: 30_000 })
    .uid('numbers')
    .rebalance()
    .map((i: number) => {
      const until = process.hrtime.bigint() + 100_000n;
      while (process.hrtime.bigint() < until) {
        // a slow external call
      }
      return i % 10;
    })
    .uid('slow')
    .keyBy((key: number) => key)
    .process<string>((key, _ctx, out) => out.collect(`${key}`))
    .uid('pass')
    .sinkTo(FileSink.forRowFormat<string>(output).build())
    .uid('sink');
}

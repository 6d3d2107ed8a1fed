import { FileSink, ValueStateDescriptor, type StreamExecutionEnvironment, type ValueState } from '@weir/api';

/**
 * The keyed running count of keyed-sum.ts, whose first keyed subtask blocks its thread
 * for `stallMs` every `every` records: checkpoints whose barrier waits behind a stall time
 * out, after the other subtask has written its part of them. Output lines "key count",
 * exactly once. Args: output N keys ratePerSecond checkpointMs stallMs every
 */
export default function stallingKeyedSum(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n, k, rate, interval, stallMs, every] = args as [string, string, string, string, string, string, string];
  const keys = Number(k);
  env.enableCheckpointing(Number(interval));
  let count: ValueState<number>;
  let seen = 0;
  let stall = false;
  env
    .generate((i) => i + 1, { count: Number(n), ratePerSecond: Number(rate) })
    .setParallelism(1)
    .uid('numbers')
    .keyBy((i: number) => i % keys)
    .process<string>({
      open(ctx) {
        count = ctx.getState(new ValueStateDescriptor<number>('count', 0));
        stall = ctx.runtime.subtask === 0 && ctx.runtime.attempt === 0;
      },
      processElement(i, ctx, out) {
        if (stall && ++seen % Number(every) === 0) {
          const until = Date.now() + Number(stallMs);
          while (Date.now() < until) {
            // busy: the barrier behind this record waits past the checkpoint timeout
          }
        }
        const c = (count.value() ?? 0) + 1;
        count.update(c);
        out.collect(`${i % keys} ${c}`);
      },
    })
    .uid('count')
    .sinkTo(FileSink.forRowFormat<string>(output).build())
    .uid('sink');
}

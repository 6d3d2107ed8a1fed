import { FileSink, ValueStateDescriptor, type StreamExecutionEnvironment } from '@weir/api';

/**
 * A registered class kept in ValueState and changed in place by its method, as a Flink
 * user writes it: after a restore the value must still be a Counter, holding the count of
 * the checkpoint. Output as keyed-sum.ts: "key count". Args: output N keys ratePerSecond
 */
export class Counter {
  constructor(
    readonly key: number,
    public n: number,
  ) {}
  inc(): void {
    this.n++;
  }
}

export default function counterState(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n, k, rate] = args;
  const keys = Number(k);
  env.enableCheckpointing(200);
  env.registerType(Counter);
  const counter = new ValueStateDescriptor<Counter>('counter');
  env
    .generate((i) => i + 1, { count: Number(n), ratePerSecond: Number(rate) })
    .uid('numbers')
    .keyBy((i) => i % keys)
    .process<string>((i, ctx, out) => {
      const state = ctx.getState(counter);
      const cur = state.value() ?? new Counter(i % keys, 0);
      cur.inc();
      state.update(cur);
      out.collect(`${cur.key} ${cur.n}`);
    })
    .uid('counter')
    .sinkTo(FileSink.forRowFormat<string>(output).build());
}

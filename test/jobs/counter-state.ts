import { FileSink, ValueStateDescriptor, type StreamExecutionEnvironment } from '@weir/api';

/**
 * A registered class kept in ValueState, whose method is called on the value read back:
 * after a restore the value must still be a Counter. Output as keyed-sum.ts: "key count".
 * Args: output N keys ratePerSecond
 */
export class Counter {
  constructor(
    readonly key: number,
    readonly n: number,
  ) {}
  next(): Counter {
    return new Counter(this.key, this.n + 1);
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
      const next = (state.value() ?? new Counter(i % keys, 0)).next();
      state.update(next);
      out.collect(`${next.key} ${next.n}`);
    })
    .uid('counter')
    .sinkTo(FileSink.forRowFormat<string>(output).build());
}

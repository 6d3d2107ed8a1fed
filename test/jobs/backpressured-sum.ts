import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * keyed-sum behind a slow operator, so the hash exchange is backpressured and records sit
 * in flight when a barrier comes: numbers 1..N (p=2) -> key (n mod K) -> running count ->
 * a step that spends `micros` per record -> exactly-once file sink. With `rebalance` a
 * rebalanced map sits between the numbers and the keyBy, so two exchanges hold records.
 * Args: outputDir N K micros checkpointMs [rebalance].
 */
export default function backpressuredSum(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n = '50000', k = '40', micros = '200', interval = '300', shape = ''] = args;
  const keys = Number(k);
  const spendNs = BigInt(Number(micros) * 1000);
  env.enableCheckpointing(Number(interval));
  let numbers = env.fromSequence(1, Number(n)).uid('numbers');
  if (shape === 'rebalance') numbers = numbers.rebalance().map((i: number) => i).name('rebalanced');
  numbers
    .map((i: number) => ({ key: i % keys, count: 1, padding: 'p'.repeat(64) }))
    .keyBy((r) => r.key)
    .sum('count')
    .uid('sum')
    .map((r) => {
      const until = process.hrtime.bigint() + spendNs;
      while (process.hrtime.bigint() < until) {
        // a slow external system
      }
      return `${r.key} ${r.count}`;
    })
    .sinkTo(FileSink.forRowFormat<string>(output).build())
    .uid('sink');
}

import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * keyed-sum behind a slow operator, so the hash exchange is backpressured and records sit
 * in flight when a barrier comes: numbers 1..N (p=2) -> key (n mod K) -> running count ->
 * a step that spends `micros` per record -> exactly-once file sink.
 * Args: outputDir N K micros checkpointMs.
 */
export default function backpressuredSum(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n = '50000', k = '40', micros = '200', interval = '300'] = args;
  const keys = Number(k);
  const spendNs = BigInt(Number(micros) * 1000);
  env.enableCheckpointing(Number(interval));
  env
    .fromSequence(1, Number(n))
    .uid('numbers')
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

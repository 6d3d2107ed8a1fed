import { FileSink, ValueStateDescriptor, type StreamExecutionEnvironment } from '@weir/api';

/**
 * keyed-sum in versions, for savepoint tests: numbers 1..N (generator, rate-limited) ->
 * key (n mod K) -> running count per key -> exactly-once file sink.
 *   v1     the job as first deployed, every stateful operator with a uid
 *   v2     v1 changed: a stateless filter after the source (no uid), and a keyed operator
 *          with a new uid ("seen") that counts records per key since it was added and
 *          appends " +<that count>" to each line; the sink moves to another vertex
 *   nouid  v1 with the running count's uid left out
 * Args: output N keys rate checkpointMs version
 */
export default function savepointSum(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n, k, rate, interval, version = 'v1'] = args;
  const keys = Number(k);
  env.setJobName(`savepoint-sum-${version}`);
  env.enableCheckpointing(Number(interval));
  let numbers = env.generate((i) => i + 1, { count: Number(n), ratePerSecond: Number(rate) }).name('numbers').uid('numbers');
  if (version === 'v2') numbers = numbers.filter((i: number) => i > 0).name('positive');
  const sums = numbers
    .map((i: number) => ({ key: i % keys, count: 1 }))
    .keyBy((r) => r.key)
    .sum('count');
  if (version !== 'nouid') sums.uid('sum');
  let lines = sums.map((r) => `${r.key} ${r.count}`);
  if (version === 'v2') {
    lines = lines
      .keyBy((line: string) => line.split(' ')[0])
      .process<string>({
        open(ctx) {
          (this as unknown as { seen: import('@weir/api').ValueState<number> }).seen = ctx.getState(new ValueStateDescriptor<number>('seen', 0));
        },
        processElement(line, _ctx, out) {
          const seen = (this as unknown as { seen: import('@weir/api').ValueState<number> }).seen;
          seen.update((seen.value() ?? 0) + 1);
          out.collect(`${line} +${seen.value()}`);
        },
      })
      .name('seen')
      .uid('seen');
  }
  lines.sinkTo(FileSink.forRowFormat<string>(output).build()).uid('sink');
}

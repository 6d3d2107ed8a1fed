import { existsSync, writeFileSync } from 'node:fs';
import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * keyed-sum with a map that throws after `failAfter` records of a subtask: once (a marker
 * file remembers that it did) or always. Args: output N keys failAfter marker once|always
 */
export default function failingSum(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n, k, failAfter, marker, mode] = args;
  const keys = Number(k);
  env.enableCheckpointing(200);
  let seen = 0;
  env
    .generate((i) => i + 1, { count: Number(n), ratePerSecond: 20_000 })
    .uid('numbers')
    .map((i: number) => {
      if (++seen === Number(failAfter) && (mode === 'always' || !existsSync(marker))) {
        writeFileSync(marker, 'failed once');
        throw new Error(`injected failure after ${failAfter} records`);
      }
      return { key: i % keys, count: 1 };
    })
    .keyBy((r) => r.key)
    .sum('count')
    .uid('sum')
    .map((r) => `${r.key} ${r.count}`)
    .sinkTo(FileSink.forRowFormat<string>(output).build());
}

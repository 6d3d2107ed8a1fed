import { existsSync, writeFileSync } from 'node:fs';
import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * A map whose second subtask blocks its thread for `blockMs` once (a long synchronous
 * call), in a job whose records cross TaskManagers both ways: generator (p=2) ->
 * rebalance -> the map (p=2) -> keyBy -> running count -> exactly-once file sink.
 * Args: outputDir N keys blockMs marker.
 */
export default function blockingMap(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n, k, blockMs, marker] = args;
  const keys = Number(k);
  let seen = 0;
  env.enableCheckpointing(500);
  env
    .generate((i) => i + 1, { count: Number(n), ratePerSecond: 2_000 })
    .uid('numbers')
    .rebalance()
    .process<{ key: number; count: number }>((value, ctx, out) => {
      if (ctx.runtime.subtask === 1 && ++seen === 2_000 && !existsSync(marker)) {
        writeFileSync(marker, 'blocked');
        const until = Date.now() + Number(blockMs);
        while (Date.now() < until) {
          // a synchronous call that takes long: the slot's thread does nothing else
        }
      }
      out.collect({ key: (value as number) % keys, count: 1 });
    })
    .uid('blocking')
    .keyBy((r) => r.key)
    .sum('count')
    .uid('sum')
    .map((r) => `${r.key} ${r.count}`)
    .sinkTo(FileSink.forRowFormat<string>(output).build())
    .uid('sink');
}

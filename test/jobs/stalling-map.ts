import { existsSync, writeFileSync } from 'node:fs';
import type { StreamExecutionEnvironment } from '@weir/api';

/**
 * A job whose second map subtask blocks its thread for `stallMs` once, after `after`
 * records, so that this task cannot answer a checkpoint in time. The source runs at
 * parallelism 1, so the stalled subtask has its slot (and thread) to itself.
 * Args: stallMs after marker
 */
export default function stallingMap(env: StreamExecutionEnvironment, args: string[]): void {
  const [stallMs, after, marker] = args;
  let seen = 0;
  env
    .generate((i) => i, { ratePerSecond: 2_000 })
    .setParallelism(1)
    .rebalance()
    .process<number>((value, ctx, out) => {
      if (ctx.runtime.subtask === 1 && ++seen === Number(after) && !existsSync(marker)) {
        writeFileSync(marker, 'stalled');
        const until = Date.now() + Number(stallMs);
        while (Date.now() < until) {
          // busy: the task thread is stuck, as with a slow external call
        }
      }
      out.collect(value as number);
    })
    .setParallelism(2)
    .name('stalling-map')
    .sinkTo(() => {})
    .setParallelism(2);
}

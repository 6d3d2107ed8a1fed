import { existsSync, writeFileSync } from 'node:fs';
import type { StreamExecutionEnvironment } from '@weir/api';

/**
 * A job whose map blocks its thread for `stallMs` once, after `after` records, so that
 * its task cannot answer a checkpoint in time. Args: stallMs after marker
 */
export default function stallingMap(env: StreamExecutionEnvironment, args: string[]): void {
  const [stallMs, after, marker] = args;
  env.setParallelism(1);
  let seen = 0;
  env
    .generate((i) => i, { ratePerSecond: 2_000 })
    .rebalance()
    .map((i: number) => {
      if (++seen === Number(after) && !existsSync(marker)) {
        writeFileSync(marker, 'stalled');
        const until = Date.now() + Number(stallMs);
        while (Date.now() < until) {
          // busy: the task thread is stuck, as with a slow external call
        }
      }
      return i;
    })
    .name('stalling-map')
    .sinkTo(() => {});
}

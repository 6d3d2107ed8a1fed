import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { OperatorContext, Sink, StreamExecutionEnvironment } from '@weir/api';
import { runningSumPipeline, type KeyedSum } from './bench-throughput';

/**
 * Benchmark job, the Weir twin of bench/peers/flink RecoveryJob: the running-sum pipeline
 * of bench-throughput.ts with the generator throttled (default 2,000 records/s per source
 * subtask), 10,000 keys, a checkpoint every 1 s, and a sink that appends
 * "epochMillis subtask attempt key sum" for every record to OUT_DIR/sink-<subtask>-<attempt>.log
 * (written per record, like Flink's flushed writer).
 * Args: OUT_DIR [RATE_PER_SOURCE_SUBTASK=2000] [KEYS=10000] [CHECKPOINT_MS=1000]
 */
function lineSink(outDir: string): Sink<KeyedSum> {
  return {
    name: 'sink',
    createOperator: () => {
      let fd = -1;
      let prefix = '';
      return {
        open(ctx: OperatorContext) {
          mkdirSync(outDir, { recursive: true });
          fd = openSync(path.join(outDir, `sink-${ctx.subtask}-${ctx.attempt}.log`), 'a');
          prefix = ` ${ctx.subtask} ${ctx.attempt} `;
        },
        processElement(r: KeyedSum) {
          writeSync(fd, `${Date.now()}${prefix}${r.key} ${r.sum}\n`);
        },
        close() {
          if (fd >= 0) closeSync(fd);
          fd = -1;
        },
      };
    },
  };
}

export default function benchRecovery(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, rate = '2000', keys = '10000', checkpointMs = '1000'] = args;
  if (!outDir) throw new Error('usage: bench-recovery.ts -- OUT_DIR [RATE_PER_SOURCE_SUBTASK] [KEYS] [CHECKPOINT_MS]');
  env.setJobName('bench-recovery');
  if (Number(checkpointMs) > 0) env.enableCheckpointing(Number(checkpointMs));
  runningSumPipeline(env, Number(keys), Number(rate)).sinkTo(lineSink(outDir)).uid('sink');
}

import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SinkFunction } from '../functions';
import type { Output, StreamOperator } from '../operator';
import { formatPrinted, formatRecord } from './format';
import { printLine } from './print-output';

/**
 * Prints every record when it arrives, as Flink's print sink does: one line per record,
 * prefixed `N> ` (subtask index + 1) when the sink runs with parallelism above 1.
 */
export function printOperator<T>(label?: string): StreamOperator<T, never> {
  let prefix = '';
  let jobId = '';
  return {
    open(ctx) {
      jobId = ctx.jobId;
      const parts = [label, ctx.parallelism > 1 ? String(ctx.subtask + 1) : ''].filter(Boolean);
      prefix = parts.length ? `${parts.join(':')}> ` : '';
    },
    processElement(value) {
      printLine(jobId, prefix + formatPrinted(value));
    },
  };
}

/**
 * Appends records as lines to a file (parallelism 1) or to files 1..p in a directory.
 * At-least-once: after a recovery, records since the last checkpoint are written again.
 */
export function textFileSinkOperator<T>(target: string): StreamOperator<T, never> {
  let file = target;
  let lines: string[] = [];
  const flush = () => {
    if (lines.length) appendFileSync(file, lines.join('\n') + '\n');
    lines = [];
  };
  return {
    open(ctx) {
      if (ctx.parallelism > 1) {
        mkdirSync(target, { recursive: true });
        file = path.join(target, String(ctx.subtask + 1));
      } else {
        mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
      }
      if (!ctx.isRestored && ctx.attempt === 0) writeFileSync(file, '');
    },
    processElement(value) {
      lines.push(formatRecord(value));
      if (lines.length >= 1024) flush();
    },
    snapshotState: flush,
    finish: flush,
    close: flush,
  };
}

export function userSinkOperator<T>(sink: SinkFunction<T> | ((value: T) => void)): StreamOperator<T, never> {
  const fn: SinkFunction<T> = typeof sink === 'function' ? { invoke: sink } : sink;
  return {
    open: (ctx) => fn.open?.(ctx),
    processElement: (value) => fn.invoke(value),
    snapshotState: () => void fn.flush?.(),
    finish: () => fn.flush?.(),
    close: () => fn.close?.(),
  };
}

export type { Output };

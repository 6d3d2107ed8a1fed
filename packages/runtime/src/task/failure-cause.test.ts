import { describe, expect, it } from 'vitest';
import { failureCause } from './failure-cause';

const BUNDLE = '/opt/weir/packages/cli/dist/weir.cjs';

function errorWithStack(message: string, frames: string[]): Error {
  const err = new Error(message);
  err.stack = [`Error: ${message}`, ...frames.map((f) => `    at ${f}`)].join('\n');
  return err;
}

describe('failureCause', () => {
  it("keeps only the job's own frames when the stack passes through them", () => {
    const err = errorWithStack('For input string: "abc"', [
      'Object.parseInt (/home/me/jobs/checkpoint-example.ts:6:50)',
      `Object.processElement (${BUNDLE}:44592:56)`,
      `Task.runSource (${BUNDLE}:44375:37)`,
      'process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ]);
    expect(failureCause(err, { bundleFile: BUNDLE })).toBe('For input string: "abc"\n    at Object.parseInt (/home/me/jobs/checkpoint-example.ts:6:50)');
  });

  it('keeps the first frames when none is the job\'s', () => {
    const frames = [1, 2, 3, 4, 5, 6].map((n) => `f${n} (${BUNDLE}:${n}:1)`);
    expect(failureCause(errorWithStack('socket refused', frames), { bundleFile: BUNDLE }).split('\n')).toHaveLength(6);
  });

  it('says what was thrown when it is not an Error', () => {
    expect(failureCause('a string', { bundleFile: BUNDLE })).toBe('a string');
    expect(failureCause(42, { bundleFile: BUNDLE })).toBe('42');
  });
});

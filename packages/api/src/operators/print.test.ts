import { afterEach, describe, expect, it } from 'vitest';
import type { OperatorContext } from '../operator';
import { formatPrinted, formatRecord } from './format';
import { setPrintHandler } from './print-output';
import { printOperator } from './sinks';

function context(subtask: number, parallelism: number): OperatorContext {
  return { jobId: 'job-1', taskName: 'v2', subtask, parallelism, maxParallelism: 128, attempt: 0, isRestored: false, config: {} } as unknown as OperatorContext;
}

const noOutput = { collect() {} };

describe('print()', () => {
  afterEach(() => setPrintHandler(undefined));

  it('writes each record when it arrives: no buffering until 256 lines, a checkpoint or the end', () => {
    const printed: [string, string][] = [];
    setPrintHandler((job, line) => printed.push([job, line]));
    const op = printOperator<unknown>();
    op.open?.(context(0, 1), noOutput);
    op.processElement(1, noOutput);
    expect(printed).toEqual([['job-1', '1']]);
    op.processElement('two', noOutput);
    expect(printed).toEqual([['job-1', '1'], ['job-1', 'two']]);
  });

  it("prefixes `N> ` (subtask index + 1) only when the sink's parallelism is above 1, as Flink does", () => {
    const printed: string[] = [];
    setPrintHandler((_job, line) => printed.push(line));
    const single = printOperator<number>();
    single.open?.(context(0, 1), noOutput);
    single.processElement(7, noOutput);
    const second = printOperator<number>();
    second.open?.(context(1, 3), noOutput);
    second.processElement(7, noOutput);
    const labelled = printOperator<number>('sums');
    labelled.open?.(context(2, 3), noOutput);
    labelled.processElement(7, noOutput);
    expect(printed).toEqual(['7', '2> 7', 'sums:3> 7']);
  });
});

describe('formatPrinted (print) and formatRecord (text files)', () => {
  it('prints strings as they are and numbers as numbers, NaN as NaN', () => {
    for (const format of [formatPrinted, formatRecord]) {
      expect(format('abc')).toBe('abc');
      expect(format(NaN)).toBe('NaN');
      expect(format(-0)).toBe('-0');
    }
    expect(formatPrinted('abc')).toBe('abc');
    expect(formatPrinted('"quoted" {json}')).toBe('"quoted" {json}');
    expect(formatPrinted(42)).toBe('42');
    expect(formatPrinted(-1.5)).toBe('-1.5');
    expect(formatPrinted(NaN)).toBe('NaN');
    expect(formatPrinted(Infinity)).toBe('Infinity');
    expect(formatPrinted(-0)).toBe('-0');
    expect(formatPrinted(12n)).toBe('12n');
    expect(formatPrinted(null)).toBe('null');
    expect(formatPrinted(undefined)).toBe('undefined');
    expect(formatPrinted(true)).toBe('true');
  });

  it('prints other values as Node does, on one line, keeping what JSON would lose', () => {
    expect(formatPrinted({ word: 'a', count: 1 })).toBe("{ word: 'a', count: 1 }");
    expect(formatPrinted([1, NaN, undefined])).toBe('[ 1, NaN, undefined ]');
    expect(formatPrinted(new Map([['k', 1]]))).toBe("Map(1) { 'k' => 1 }");
    expect(formatPrinted(new Set([1, 2]))).toBe('Set(2) { 1, 2 }');
    expect(formatPrinted(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(formatPrinted({ nested: { deep: [1, { x: 'y' }] } }).includes('\n')).toBe(false);
  });

  it('writes objects to text files as JSON, for other tools to read', () => {
    expect(formatRecord({ n: 1 })).toBe('{"n":1}');
    expect(formatRecord([1, 'a'])).toBe('[1,"a"]');
  });
});

import type { StreamExecutionEnvironment } from '@weir/api';

const TEXT = [
  'to be or not to be that is the question',
  'whether tis nobler in the mind to suffer',
  'the slings and arrows of outrageous fortune',
  'or to take arms against a sea of troubles',
  'and by opposing end them to die to sleep',
];

/**
 * Keyed word count: lines -> words -> keyBy(word) -> running count -> print.
 * Args: [outputDir] to also write the counts with the exactly-once file sink.
 */
export default function wordCount(env: StreamExecutionEnvironment, args: string[]): void {
  env.setJobName('word-count');
  const counts = env
    .fromCollection(TEXT)
    .name('lines')
    .flatMap((line: string) => line.split(/\s+/).filter(Boolean).map((word) => ({ word, count: 1 })))
    .name('split')
    .keyBy((w) => w.word)
    .sum('count')
    .name('count')
    .uid('word-count');
  counts.map((w) => `${w.word} ${w.count}`).print();
}

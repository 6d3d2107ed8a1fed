import type { StreamExecutionEnvironment } from '@weir/api';

/** readTextFile -> upper case -> writeAsText. Args: input output */
export default function textFiles(env: StreamExecutionEnvironment, args: string[]): void {
  const [input, output] = args;
  env.readTextFile(input).map((line: string) => line.toUpperCase()).writeAsText(output);
}

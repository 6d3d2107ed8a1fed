import type { StreamExecutionEnvironment } from '@weir/api';

/** registerType used wrongly: with a value that is not a class, or two classes under one name. Args: not-a-class|same-name */
export default function registerMisuse(env: StreamExecutionEnvironment, args: string[]): void {
  if (args[0] === 'not-a-class') env.registerType(42 as never);
  else env.registerType(class Point {}).registerType(class Other {}, 'Point');
  env.fromElements(1).print();
}

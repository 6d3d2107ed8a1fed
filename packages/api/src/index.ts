export { StreamExecutionEnvironment, type CheckpointingMode } from './environment';
export { DataStream, KeyedStream, FileSink, type Sink } from './datastream';
export * from './functions';
export * from './state';
export type { OperatorContext, Output } from './operator';
export type { GeneratorOptions } from './operators/sources';

/** The shape of a job module's default export. */
export type JobFunction = (env: import('./environment').StreamExecutionEnvironment, args: string[]) => void | Promise<void>;

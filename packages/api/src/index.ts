export { StreamExecutionEnvironment } from './environment';
export { CheckpointConfig, CheckpointingMode, ExternalizedCheckpointRetention } from './checkpoint-config';
export { RestartStrategies, type RestartStrategyConfiguration, type Duration } from './restart-strategies';
export { DataStream, KeyedStream, FileSink, type Sink } from './datastream';
export * from './functions';
export * from './state';
export type { OperatorContext, Output } from './operator';
export type { GeneratorOptions } from './operators/sources';

/** The shape of a job module's default export. */
export type JobFunction = (env: import('./environment').StreamExecutionEnvironment, args: string[]) => void | Promise<void>;

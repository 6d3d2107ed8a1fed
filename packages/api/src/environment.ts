import { MAX_MAX_PARALLELISM } from '@weir/core';
import { DataStream } from './datastream';
import type { SourceOperator } from './operator';
import { collectionSource, generatorSource, sequenceSource, socketSource, textFileSource, type GeneratorOptions } from './operators/sources';
import type { Transformation } from './transformation';
import { buildJobPlan, type JobPlan } from './graph';
import { TypeRegistry, validateValue } from '@weir/core';
import { CheckpointConfig, type CheckpointingMode } from './checkpoint-config';
import type { RestartStrategyConfiguration } from './restart-strategies';

export type { CheckpointingMode } from './checkpoint-config';

/** The environment `getExecutionEnvironment()` returns while a job module is loaded. */
let ambient: StreamExecutionEnvironment | undefined;

/**
 * What a job's default export receives: it records the pipeline the job builds. The
 * same function runs in the CLI (to get the graph) and in every TaskManager (to get the
 * operators), so it must build the same graph for the same arguments.
 */
export class StreamExecutionEnvironment {
  private readonly transformations: Transformation[] = [];
  private nextId = 1;
  private parallelism?: number;
  private maxParallelism?: number;
  private jobName = 'weir-job';
  private readonly jobConfig: Record<string, string> = {};
  private readonly types = new TypeRegistry();

  constructor(private readonly defaults: { parallelism: number; maxParallelism: number } = { parallelism: 1, maxParallelism: 128 }) {}

  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > MAX_MAX_PARALLELISM) {
      throw new Error(`setParallelism: expected an integer from 1 to ${MAX_MAX_PARALLELISM}, got ${parallelism}`);
    }
    this.parallelism = parallelism;
    return this;
  }

  getParallelism(): number {
    return this.parallelism ?? this.defaults.parallelism;
  }

  setMaxParallelism(maxParallelism: number): this {
    if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > MAX_MAX_PARALLELISM) {
      throw new Error(`setMaxParallelism: expected an integer from 1 to ${MAX_MAX_PARALLELISM}, got ${maxParallelism}`);
    }
    this.maxParallelism = maxParallelism;
    return this;
  }

  /** Checkpoints every `intervalMs` (at least 10 ms); as Flink's env.enableCheckpointing. */
  enableCheckpointing(intervalMs: number, mode: CheckpointingMode = 'EXACTLY_ONCE'): this {
    validateValue('execution.checkpointing.mode', mode); // both valid, or neither set
    this.getCheckpointConfig().setCheckpointInterval(intervalMs).setCheckpointingMode(mode);
    return this;
  }

  /** Sets any configuration key for this job (checkpointing, restart strategy, ...); validated at once. */
  configure(key: string, value: string | number): this {
    validateValue(key, value);
    this.jobConfig[key] = String(value);
    return this;
  }

  /**
   * Instances of this class keep their prototype (and so their methods) in records that
   * cross tasks and in state restored from a checkpoint, as Flink's registerType. The
   * name must be the same in every process (the class name by default).
   */
  registerType(type: abstract new (...args: never[]) => unknown, name?: string): this {
    this.types.register(type, name);
    return this;
  }

  setJobName(name: string): this {
    this.jobName = name;
    return this;
  }

  addTransformation(spec: Omit<Transformation, 'id'>): Transformation {
    const t: Transformation = { ...spec, id: this.nextId++ };
    this.transformations.push(t);
    return t;
  }

  private source<T>(kind: string, name: string, create: () => SourceOperator<T>, options: { bounded: boolean; nonParallel?: boolean }): DataStream<T> {
    const t = this.addTransformation({
      kind,
      name,
      inputs: [],
      createSource: create as () => SourceOperator,
      bounded: options.bounded,
      nonParallel: options.nonParallel,
      parallelism: options.nonParallel ? 1 : undefined,
    });
    return new DataStream<T>(this, t);
  }

  fromSequence(from: number, to: number): DataStream<number> {
    return this.source('source', `Sequence(${from}..${to})`, () => sequenceSource(from, to), { bounded: true });
  }

  /** Deterministic generator: record i is fn(i); bounded when options.count is set. */
  generate<T>(fn: (index: number) => T, options: GeneratorOptions = {}): DataStream<T> {
    return this.source('source', 'Generator', () => generatorSource(fn, options), { bounded: options.count !== undefined });
  }

  fromCollection<T>(items: readonly T[]): DataStream<T> {
    return this.source('source', 'Collection', () => collectionSource(items), { bounded: true, nonParallel: true });
  }

  fromElements<T>(...items: T[]): DataStream<T> {
    return this.fromCollection(items);
  }

  readTextFile(path: string): DataStream<string> {
    return this.source('source', `TextFile(${path})`, () => textFileSource(path), { bounded: true, nonParallel: true });
  }

  socketTextStream(host: string, port: number): DataStream<string> {
    return this.source('source', `Socket(${host}:${port})`, () => socketSource(host, port), { bounded: false, nonParallel: true });
  }

  /** The job graph and the per-vertex operator factories. */
  buildPlan(): JobPlan {
    return buildJobPlan(this.transformations, {
      name: this.jobName,
      parallelism: this.getParallelism(),
      maxParallelism: this.maxParallelism ?? this.defaults.maxParallelism,
      config: this.jobConfig,
      types: this.types,
    });
  }

  // ---- Flink's API for settings: each one writes the configuration keys it stands for ----

  /** Flink's `env.getCheckpointConfig()`: setters for the `execution.checkpointing.*` keys. */
  getCheckpointConfig(): CheckpointConfig {
    return new CheckpointConfig(this.jobConfig);
  }

  /** Flink's `env.setRestartStrategy(RestartStrategies...)`: replaces any `restart-strategy.*` keys. */
  setRestartStrategy(strategy: RestartStrategyConfiguration): this {
    if (!strategy || typeof strategy.config !== 'object') throw new TypeError('setRestartStrategy: expected a RestartStrategies.* value');
    for (const key of Object.keys(this.jobConfig)) if (key.startsWith('restart-strategy.')) delete this.jobConfig[key];
    Object.assign(this.jobConfig, strategy.config);
    return this;
  }

  /**
   * Flink's `env.execute(jobName)`. `weir run` submits the pipeline the job built and
   * follows it, so here it only names the job; the promise resolves at once.
   */
  execute(jobName?: string): Promise<void> {
    if (jobName !== undefined) this.setJobName(jobName);
    return Promise.resolve();
  }

  /**
   * Flink's `StreamExecutionEnvironment.getExecutionEnvironment()`, for job modules written
   * as a script rather than as a default export: the environment `weir run` (and every
   * TaskManager) records the pipeline into while it loads the module.
   */
  static getExecutionEnvironment(): StreamExecutionEnvironment {
    if (!ambient) throw new Error('getExecutionEnvironment() works inside a job module run by `weir run`; tests can use new StreamExecutionEnvironment()');
    return ambient;
  }

  /** For the job loader: makes `env` the ambient environment while `load` runs. */
  static withAmbient<R>(env: StreamExecutionEnvironment, load: () => R): R {
    const previous = ambient;
    ambient = env;
    try {
      return load();
    } finally {
      ambient = previous;
    }
  }

  /** True once the job added a source or operator. */
  hasPipeline(): boolean {
    return this.transformations.length > 0;
  }
}

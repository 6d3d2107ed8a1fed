import { MAX_MAX_PARALLELISM } from '@weir/core';
import { DataStream } from './datastream';
import type { SourceOperator } from './operator';
import { collectionSource, generatorSource, sequenceSource, socketSource, textFileSource, type GeneratorOptions } from './operators/sources';
import type { Transformation } from './transformation';
import { buildJobPlan, type JobPlan } from './graph';

export type CheckpointingMode = 'EXACTLY_ONCE' | 'AT_LEAST_ONCE';

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

  /** Checkpoints every `intervalMs`; as Flink's env.enableCheckpointing. */
  enableCheckpointing(intervalMs: number, mode: CheckpointingMode = 'EXACTLY_ONCE'): this {
    this.jobConfig['execution.checkpointing.interval'] = String(intervalMs);
    this.jobConfig['execution.checkpointing.mode'] = mode;
    return this;
  }

  /** Sets any configuration key for this job (checkpointing, restart strategy, ...). */
  configure(key: string, value: string | number): this {
    this.jobConfig[key] = String(value);
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
    });
  }
}

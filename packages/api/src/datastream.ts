import type { FilterFunction, FlatMapFunction, KeySelector, MapFunction, ProcessContext, ProcessFunction, ReduceFunction, SinkFunction } from './functions';
import type { Output, StreamOperator } from './operator';
import type { StreamExecutionEnvironment } from './environment';
import type { PartitionKind, Transformation } from './transformation';
import { filterOperator, flatMapOperator, mapOperator, processOperator, reduceOperator } from './operators/transforms';
import { printOperator, textFileSinkOperator, userSinkOperator } from './operators/sinks';
import { exactlyOnceFileSinkOperator } from './operators/file-sink';

/** A sink that a DataStream can be written to with `sinkTo`. */
export interface Sink<T> {
  readonly name: string;
  createOperator(): StreamOperator<T, never>;
}

/** Flink's FileSink: exactly-once, files become visible when their checkpoint completes. */
export const FileSink = {
  forRowFormat<T>(directory: string): { build(): Sink<T> } {
    return { build: () => ({ name: `FileSink(${directory})`, createOperator: () => exactlyOnceFileSinkOperator<T>(directory) }) };
  },
};

export class DataStream<T> {
  constructor(
    protected readonly env: StreamExecutionEnvironment,
    readonly transformation: Transformation,
    private readonly partitioning: PartitionKind = 'FORWARD',
    private readonly keySelector?: KeySelector<T, unknown>,
  ) {}

  /** Operator name, shown in the job graph and logs. */
  name(name: string): this {
    this.transformation.name = name;
    return this;
  }

  /** Stable operator id: state in checkpoints is matched to operators by it. */
  uid(uid: string): this {
    this.transformation.uid = uid;
    return this;
  }

  setParallelism(parallelism: number): this {
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new Error(`setParallelism: expected a positive integer, got ${parallelism}`);
    if (this.transformation.nonParallel && parallelism !== 1) throw new Error(`${this.transformation.name} is a non-parallel source: its parallelism must be 1`);
    this.transformation.parallelism = parallelism;
    return this;
  }

  setMaxParallelism(maxParallelism: number): this {
    this.transformation.maxParallelism = maxParallelism;
    return this;
  }

  protected then<R>(kind: string, name: string, createOperator: () => StreamOperator): DataStream<R> {
    const t = this.env.addTransformation({
      kind,
      name,
      inputs: [{ from: this.transformation, partitioning: this.partitioning, keySelector: this.keySelector as KeySelector<unknown, unknown> }],
      createOperator,
      keySelector: this.keySelector as KeySelector<unknown, unknown>,
    });
    return new DataStream<R>(this.env, t);
  }

  map<R>(fn: MapFunction<T, R>): DataStream<R> {
    return this.then('map', 'Map', () => mapOperator(fn) as StreamOperator);
  }

  flatMap<R>(fn: FlatMapFunction<T, R>): DataStream<R> {
    return this.then('flatMap', 'FlatMap', () => flatMapOperator(fn) as StreamOperator);
  }

  filter(fn: FilterFunction<T>): DataStream<T> {
    return this.then('filter', 'Filter', () => filterOperator(fn) as StreamOperator);
  }

  process<R>(fn: ProcessFunction<T, R> | ((value: T, ctx: ProcessContext, out: Output<R>) => void)): DataStream<R> {
    return this.then('process', 'Process', () => processOperator(fn) as StreamOperator);
  }

  keyBy<K>(selector: KeySelector<T, K>): KeyedStream<T, K> {
    return new KeyedStream<T, K>(this.env, this.transformation, selector);
  }

  rebalance(): DataStream<T> {
    return new DataStream<T>(this.env, this.transformation, 'REBALANCE');
  }

  broadcast(): DataStream<T> {
    return new DataStream<T>(this.env, this.transformation, 'BROADCAST');
  }

  union(...others: DataStream<T>[]): DataStream<T> {
    const t = this.env.addTransformation({
      kind: 'union',
      name: 'Union',
      inputs: [this, ...others].map((s) => s.asInput()),
      createOperator: () => ({ processElement: (v, out) => out.collect(v) }),
    });
    return new DataStream<T>(this.env, t);
  }

  private asInput() {
    return { from: this.transformation, partitioning: this.partitioning, keySelector: this.keySelector as KeySelector<unknown, unknown> };
  }

  print(label?: string): DataStream<never> {
    return this.then('sink', 'Print', () => printOperator(label) as StreamOperator);
  }

  writeAsText(path: string): DataStream<never> {
    return this.then('sink', `TextFile(${path})`, () => textFileSinkOperator(path) as StreamOperator);
  }

  sinkTo(sink: Sink<T> | SinkFunction<T> | ((value: T) => void)): DataStream<never> {
    if (typeof sink === 'object' && 'createOperator' in sink) {
      return this.then('sink', sink.name, () => sink.createOperator() as StreamOperator);
    }
    return this.then('sink', 'Sink', () => userSinkOperator(sink) as StreamOperator);
  }
}

export class KeyedStream<T, K> extends DataStream<T> {
  constructor(env: StreamExecutionEnvironment, input: Transformation, selector: KeySelector<T, K>) {
    super(env, input, 'HASH', selector);
  }

  reduce(fn: ReduceFunction<T>): DataStream<T> {
    return this.then('reduce', 'Reduce', () => reduceOperator(fn) as StreamOperator);
  }

  /** Running sum of a numeric field (or index of a tuple), per key. */
  sum(field: string | number): DataStream<T> {
    const add = (a: T, b: T): T => {
      if (typeof a === 'number') return ((a as number) + (b as unknown as number)) as T;
      const copy = (Array.isArray(a) ? [...a] : { ...a }) as Record<string | number, number>;
      copy[field] = (copy[field] ?? 0) + (b as Record<string | number, number>)[field];
      return copy as T;
    };
    return this.then('reduce', `Sum(${field})`, () => reduceOperator(add) as StreamOperator);
  }
}

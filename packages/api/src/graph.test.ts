import { describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment } from './environment';

const shape = (env: StreamExecutionEnvironment) => {
  const { graph } = env.buildPlan();
  return {
    vertices: graph.vertices.map((v) => ({ id: v.id, name: v.name, parallelism: v.parallelism, source: v.is_source, ops: v.operators.map((o) => o.uid) })),
    edges: graph.edges.map((e) => `${e.source}->${e.target} ${e.partitioning}#${e.input_index}`),
  };
};

describe('buildPlan', () => {
  it('chains forward operators of equal parallelism into one vertex', () => {
    const env = new StreamExecutionEnvironment().setParallelism(2);
    env.fromSequence(1, 10).uid('src').map((x) => x * 2).uid('double').filter((x) => x > 4).uid('big').print().uid('out');
    const plan = env.buildPlan();
    expect(shape(env)).toEqual({
      vertices: [{ id: 'v1', name: 'Sequence(1..10) -> Map -> Filter -> Print', parallelism: 2, source: true, ops: ['src', 'double', 'big', 'out'] }],
      edges: [],
    });
    const v1 = plan.vertices.get('v1');
    expect(v1?.createSource).toBeTypeOf('function');
    expect(v1?.operatorUids).toEqual(['double', 'big', 'out']);
    expect(v1?.createOperators).toHaveLength(3);
    expect(plan.graph.vertices[0].max_parallelism).toBe(128);
  });

  it('keyBy breaks the chain with a HASH edge and gives the consumer the key selector', () => {
    const env = new StreamExecutionEnvironment().setParallelism(2).setMaxParallelism(64);
    const selector = (x: number) => x % 3;
    env.fromSequence(1, 10).map((x) => x).keyBy(selector).sum(0).print();
    expect(shape(env)).toEqual({
      vertices: [
        { id: 'v1', name: 'Sequence(1..10) -> Map', parallelism: 2, source: true, ops: ['source-1', 'map-2'] },
        { id: 'v2', name: 'Sum(0) -> Print', parallelism: 2, source: false, ops: ['reduce-3', 'sink-4'] },
      ],
      edges: ['v1->v2 HASH#0'],
    });
    const plan = env.buildPlan();
    expect(plan.vertices.get('v2')?.keySelector).toBe(selector);
    expect(plan.vertices.get('v1')?.outputKeySelectors.get('v2')).toBe(selector);
    expect(plan.vertices.get('v1')?.keySelector).toBeUndefined();
    expect(plan.graph.vertices.map((v) => v.max_parallelism)).toEqual([64, 64]);
  });

  it('rebalance breaks the chain', () => {
    const env = new StreamExecutionEnvironment().setParallelism(2);
    env.fromSequence(1, 10).rebalance().map((x) => x).print();
    expect(shape(env).edges).toEqual(['v1->v2 REBALANCE#0']);
    expect(shape(env).vertices.map((v) => v.name)).toEqual(['Sequence(1..10)', 'Map -> Print']);
  });

  it('a forward edge between different parallelisms is not chained and becomes REBALANCE', () => {
    const env = new StreamExecutionEnvironment().setParallelism(2);
    env.fromSequence(1, 10).map((x) => x).setParallelism(3).print();
    expect(shape(env)).toEqual({
      vertices: [
        { id: 'v1', name: 'Sequence(1..10)', parallelism: 2, source: true, ops: ['source-1'] },
        { id: 'v2', name: 'Map', parallelism: 3, source: false, ops: ['map-2'] },
        { id: 'v3', name: 'Print', parallelism: 2, source: false, ops: ['sink-3'] },
      ],
      edges: ['v1->v2 REBALANCE#0', 'v2->v3 REBALANCE#0'],
    });
  });

  it('a non-parallel source feeds a parallel operator through REBALANCE, and chains at parallelism 1', () => {
    const env = new StreamExecutionEnvironment().setParallelism(4);
    env.fromElements('a', 'b').map((x) => x).print();
    expect(shape(env).vertices.map((v) => [v.name, v.parallelism])).toEqual([['Collection', 1], ['Map -> Print', 4]]);
    expect(shape(env).edges).toEqual(['v1->v2 REBALANCE#0']);

    const single = new StreamExecutionEnvironment();
    single.fromElements('a', 'b').map((x) => x).print();
    expect(shape(single).vertices.map((v) => v.name)).toEqual(['Collection -> Map -> Print']);
    expect(() => new StreamExecutionEnvironment().fromElements(1).setParallelism(2)).toThrow('Collection is a non-parallel source: its parallelism must be 1');
  });

  it('an operator with two consumers ends its chain; broadcast and union keep their edges', () => {
    const env = new StreamExecutionEnvironment();
    const doubled = env.fromSequence(1, 10).map((x) => x * 2);
    doubled.print();
    doubled.broadcast().filter((x) => x > 0).union(env.fromSequence(20, 30)).print();
    expect(shape(env)).toEqual({
      vertices: [
        { id: 'v1', name: 'Sequence(1..10) -> Map', parallelism: 1, source: true, ops: ['source-1', 'map-2'] },
        { id: 'v2', name: 'Print', parallelism: 1, source: false, ops: ['sink-3'] },
        { id: 'v3', name: 'Filter', parallelism: 1, source: false, ops: ['filter-4'] },
        { id: 'v4', name: 'Sequence(20..30)', parallelism: 1, source: true, ops: ['source-5'] },
        { id: 'v5', name: 'Union -> Print', parallelism: 1, source: false, ops: ['union-6', 'sink-7'] },
      ],
      edges: ['v1->v2 FORWARD#0', 'v1->v3 BROADCAST#0', 'v3->v5 FORWARD#0', 'v4->v5 FORWARD#1'],
    });
  });

  it('rejects a duplicate uid, naming it', () => {
    const env = new StreamExecutionEnvironment();
    env.fromSequence(1, 2).uid('same').map((x) => x).uid('same').print();
    expect(() => env.buildPlan()).toThrow('two operators have the uid "same": uids must be unique');
  });

  it('rejects an empty job', () => {
    expect(() => new StreamExecutionEnvironment().buildPlan()).toThrow('the job defines no pipeline: add a source and a sink');
  });

  it('is bounded only when every source is bounded', () => {
    const bounded = new StreamExecutionEnvironment();
    bounded.fromSequence(1, 2).union(bounded.generate((i) => i, { count: 5 })).print();
    expect(bounded.buildPlan().graph.bounded).toBe(true);

    const mixed = new StreamExecutionEnvironment();
    mixed.fromSequence(1, 2).union(mixed.generate((i) => i)).print();
    expect(mixed.buildPlan().graph.bounded).toBe(false);
  });

  it('carries checkpointing settings and job configuration', () => {
    const env = new StreamExecutionEnvironment().setJobName('wc').enableCheckpointing(500, 'AT_LEAST_ONCE').configure('restart-strategy.type', 'none');
    env.fromSequence(1, 2).print();
    const { graph } = env.buildPlan();
    expect(graph.name).toBe('wc');
    expect(graph.checkpoint_interval_ms).toBe(500);
    expect(graph.checkpointing_mode).toBe('AT_LEAST_ONCE');
    expect(graph.config).toEqual({ 'execution.checkpointing.interval': '500', 'execution.checkpointing.mode': 'AT_LEAST_ONCE', 'restart-strategy.type': 'none' });

    // configure() takes Flink-style durations too: the graph carries milliseconds
    const flinkStyle = new StreamExecutionEnvironment().configure('execution.checkpointing.interval', '10 s');
    flinkStyle.fromSequence(1, 2).print();
    expect(flinkStyle.buildPlan().graph.checkpoint_interval_ms).toBe(10_000);

    const off = new StreamExecutionEnvironment();
    off.fromSequence(1, 2).print();
    expect(off.buildPlan().graph.checkpoint_interval_ms).toBe(0);
    expect(off.buildPlan().graph.checkpointing_mode).toBe('EXACTLY_ONCE');
  });
});

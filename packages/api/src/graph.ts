import { NO_TYPES, parseDuration, type TypeRegistry } from '@weir/core';
import type { KeySelector } from './functions';
import type { SourceOperator, StreamOperator } from './operator';
import type { PartitionKind, Transformation } from './transformation';

export interface GraphVertex {
  id: string;
  name: string;
  parallelism: number;
  max_parallelism: number;
  operators: { name: string; uid: string; kind: string; uid_set: boolean; keyed: boolean }[];
  is_source: boolean;
}
export interface GraphEdge { source: string; target: string; partitioning: PartitionKind; input_index: number }
export interface GraphShape {
  name: string;
  vertices: GraphVertex[];
  edges: GraphEdge[];
  checkpoint_interval_ms: number;
  checkpointing_mode: string;
  bounded: boolean;
  config: Record<string, string>;
}

/** What a task runs: a source or the head operator, and the operators chained after it. */
export interface VertexPlan {
  vertex: GraphVertex;
  createSource?: () => SourceOperator;
  /** Operators in chain order; their uids match vertex.operators (after the source). */
  createOperators: (() => StreamOperator)[];
  operatorUids: string[];
  keySelector?: KeySelector<unknown, unknown>;
  /** Key selectors of HASH outputs, by consumer vertex id. */
  outputKeySelectors: Map<string, KeySelector<unknown, unknown>>;
  /** The classes the job registered: records and state of this vertex are serialized with them. */
  types: TypeRegistry;
}

export interface JobPlan {
  graph: GraphShape;
  vertices: Map<string, VertexPlan>;
}

function operatorUid(t: Transformation): string {
  return t.uid ?? `${t.kind}-${t.id}`;
}

/**
 * Chains forward-connected transformations of equal parallelism into one vertex (plain
 * calls inside one task), as Flink's operator chaining does.
 */
export function buildJobPlan(
  transformations: readonly Transformation[],
  options: { name: string; parallelism: number; maxParallelism: number; config: Record<string, string>; types?: TypeRegistry },
): JobPlan {
  if (transformations.length === 0) throw new Error('the job defines no pipeline: add a source and a sink');
  const parallelismOf = (t: Transformation) => t.parallelism ?? options.parallelism;
  const consumers = new Map<number, number>();
  for (const t of transformations) for (const input of t.inputs) consumers.set(input.from.id, (consumers.get(input.from.id) ?? 0) + 1);

  const chainsWithInput = (t: Transformation): boolean => {
    if (t.inputs.length !== 1) return false;
    const input = t.inputs[0];
    return input.partitioning === 'FORWARD' && parallelismOf(input.from) === parallelismOf(t) && consumers.get(input.from.id) === 1;
  };

  const vertexOf = new Map<number, VertexPlan>();
  const plans: VertexPlan[] = [];
  const edges: GraphEdge[] = [];
  const uids = new Set<string>();

  for (const t of transformations) {
    const uid = operatorUid(t);
    if (uids.has(uid)) throw new Error(`two operators have the uid "${uid}": uids must be unique`);
    uids.add(uid);
    if (chainsWithInput(t)) {
      const plan = vertexOf.get(t.inputs[0].from.id) as VertexPlan;
      plan.vertex.operators.push({ name: t.name, uid, kind: t.kind, uid_set: t.uid !== undefined, keyed: false });
      plan.vertex.name = `${plan.vertex.name} -> ${t.name}`;
      if (t.createOperator) {
        plan.createOperators.push(t.createOperator);
        plan.operatorUids.push(uid);
      }
      vertexOf.set(t.id, plan);
      continue;
    }
    const id = `v${plans.length + 1}`;
    const plan: VertexPlan = {
      vertex: {
        id,
        name: t.name,
        parallelism: parallelismOf(t),
        max_parallelism: t.maxParallelism ?? options.maxParallelism,
        operators: [{ name: t.name, uid, kind: t.kind, uid_set: t.uid !== undefined, keyed: t.inputs.some((i) => i.partitioning === 'HASH') }],
        is_source: !!t.createSource,
      },
      createSource: t.createSource,
      createOperators: t.createOperator ? [t.createOperator] : [],
      operatorUids: t.createOperator ? [uid] : [],
      keySelector: t.inputs.find((i) => i.partitioning === 'HASH')?.keySelector,
      outputKeySelectors: new Map(),
      types: options.types ?? NO_TYPES,
    };
    plans.push(plan);
    vertexOf.set(t.id, plan);
    t.inputs.forEach((input, inputIndex) => {
      const from = vertexOf.get(input.from.id) as VertexPlan;
      // A forward edge between different parallelisms cannot be one-to-one: rebalance.
      const partitioning: PartitionKind =
        input.partitioning === 'FORWARD' && from.vertex.parallelism !== plan.vertex.parallelism ? 'REBALANCE' : input.partitioning;
      edges.push({ source: from.vertex.id, target: id, partitioning, input_index: inputIndex });
      if (partitioning === 'HASH' && input.keySelector) from.outputKeySelectors.set(id, input.keySelector);
    });
  }

  const sources = transformations.filter((t) => t.createSource);
  const interval = options.config['execution.checkpointing.interval'];
  return {
    graph: {
      name: options.name,
      vertices: plans.map((p) => p.vertex),
      edges,
      checkpoint_interval_ms: interval ? parseDuration(interval, 'execution.checkpointing.interval') : 0,
      checkpointing_mode: options.config['execution.checkpointing.mode'] ?? 'EXACTLY_ONCE',
      bounded: sources.length > 0 && sources.every((s) => s.bounded),
      config: { ...options.config },
    },
    vertices: new Map(plans.map((p) => [p.vertex.id, p])),
  };
}

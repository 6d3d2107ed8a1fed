import { randomBytes } from 'node:crypto';
import { taskName, type JobEdge, type JobGraph, type JobVertex, type TaskRef } from '@weir/core';
import type { ExecutionState } from './job-state';

export interface Execution {
  ref: TaskRef;
  name: string;
  state: ExecutionState;
  taskmanagerId?: string;
  slotIndex?: number;
  dataAddress?: string;
  recordsIn: number;
  recordsOut: number;
}

/** The job graph expanded to vertex x subtask for one execution attempt. */
export class ExecutionGraph {
  readonly executions = new Map<string, Execution>();
  /** Shared by this attempt's tasks only: a partition request without it is refused. */
  readonly exchangeToken = randomBytes(16).toString('hex');

  constructor(
    readonly jobId: string,
    readonly graph: JobGraph,
    readonly attempt: number,
  ) {
    for (const v of graph.vertices) {
      for (let s = 0; s < v.parallelism; s++) {
        const ref: TaskRef = { job_id: jobId, vertex_id: v.id, subtask: s, attempt };
        this.executions.set(ExecutionGraph.key(v.id, s), { ref, name: taskName(v.id, s, attempt), state: 'CREATED', recordsIn: 0, recordsOut: 0 });
      }
    }
  }

  static key(vertexId: string, subtask: number): string {
    return `${vertexId}#${subtask}`;
  }

  get(ref: TaskRef): Execution | undefined {
    if (ref.attempt !== this.attempt) return undefined;
    return this.executions.get(ExecutionGraph.key(ref.vertex_id, ref.subtask));
  }

  all(): Execution[] {
    return [...this.executions.values()];
  }

  vertex(id: string): JobVertex {
    const v = this.graph.vertices.find((x) => x.id === id);
    if (!v) throw new Error(`no vertex ${id}`);
    return v;
  }

  inputsOf(vertexId: string): JobEdge[] {
    return this.graph.edges.filter((e) => e.target === vertexId);
  }

  outputsOf(vertexId: string): JobEdge[] {
    return this.graph.edges.filter((e) => e.source === vertexId);
  }

  /** Slots needed with slot sharing: one subtask of each vertex per slot (known before expanding). */
  static slotsNeeded(graph: JobGraph): number {
    return Math.max(...graph.vertices.map((v) => v.parallelism));
  }
}

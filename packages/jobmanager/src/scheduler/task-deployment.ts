import type { DeployTask, InputChannelSpec } from '@weir/core';
import type { CompletedCheckpoint } from '../checkpoint/completed-store';
import { restoreHandlesFor } from '../checkpoint/restore-plan';
import { ExecutionGraph, type Execution } from './execution-graph';
import type { JobSubmission } from './job-master';

/** The deployment of one subtask: its channels, the job, and the state it restores. */
export function taskDeployment(
  submission: JobSubmission,
  graph: ExecutionGraph,
  execution: Execution,
  restore: CompletedCheckpoint | undefined,
  checkpointDir: string,
  checkpointingEnabled: boolean,
): DeployTask {
  const vertex = graph.vertex(execution.ref.vertex_id);
  const inputs: InputChannelSpec[] = [];
  for (const edge of graph.inputsOf(vertex.id)) {
    const producer = graph.vertex(edge.source);
    const producers = edge.partitioning === 'FORWARD' ? [execution.ref.subtask] : [...Array(producer.parallelism).keys()];
    for (const p of producers) {
      const producerExecution = graph.executions.get(ExecutionGraph.key(producer.id, p)) as Execution;
      inputs.push({
        producer_vertex_id: producer.id,
        producer_subtask: p,
        producer_address: producerExecution.dataAddress as string,
        input_index: edge.input_index,
        subpartition: edge.partitioning === 'FORWARD' ? 0 : execution.ref.subtask,
      });
    }
  }
  const config = {
    ...submission.config.toStringMap({ secrets: false }), // tasks never need the client token
    'parallelism.default': String(submission.config.getNumber('parallelism.default')),
  };
  return {
    task: execution.ref,
    slot: execution.slotIndex as number,
    parallelism: vertex.parallelism,
    max_parallelism: vertex.max_parallelism,
    inputs,
    outputs: graph.outputsOf(vertex.id).map((e) => ({ consumer_vertex_id: e.target, consumer_parallelism: graph.vertex(e.target).parallelism, partitioning: e.partitioning })),
    job_bundle: submission.bundle,
    job_args: submission.args,
    job_name: submission.graph.name,
    checkpoint_dir: checkpointDir,
    restore_checkpoint_id: restore?.id ?? 0,
    restore_handles: restore ? restoreHandlesFor(restore, vertex) : [],
    restore_dir: restore?.path ?? '',
    checkpointing_mode: submission.config.getString('execution.checkpointing.mode'),
    checkpointing_enabled: checkpointingEnabled,
    config_json: JSON.stringify(config),
    exchange_token: graph.exchangeToken,
  };
}

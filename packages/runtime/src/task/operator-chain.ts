import type { OperatorContext, Output, SourceOperator, StreamOperator } from '@weir/api/src/internal';
import type { VertexPlan } from '@weir/api/src/internal';
import { ContractViolation, flatRecordMatcher, type RecordSerializer } from '@weir/core';
import { checkThenForwardTo, forwardTo } from './own-call-sites';

/**
 * The operators of one task, called directly one after the other (operator chaining).
 * The last operator's output goes to the task's record writers. Records between chained
 * operators pass by reference but are checked against the serializer contract, so a
 * record that could not cross tasks fails here too, naming the operator that emitted it.
 */
export class OperatorChain {
  readonly source?: SourceOperator;
  readonly operators: StreamOperator[];
  readonly uids: string[];
  readonly head: Output;
  private readonly outputs: Output[];
  recordsOut = 0;

  /** Without a serializer (pipeline.object-reuse), chained operators hand records on unchecked. */
  constructor(plan: VertexPlan, emit: (value: unknown) => void, serializer?: RecordSerializer) {
    this.source = plan.createSource?.();
    this.operators = plan.createOperators.map((create) => create());
    this.uids = plan.operatorUids;
    const last: Output = {
      collect: (value) => {
        this.recordsOut++;
        emit(value);
      },
    };
    this.outputs = new Array(this.operators.length);
    let next = last;
    for (let i = this.operators.length - 1; i >= 0; i--) {
      const op = this.operators[i];
      const downstream = next;
      this.outputs[i] = downstream;
      const producer = i > 0 ? this.uids[i - 1] : plan.createSource ? plan.vertex.operators[0]?.uid : undefined;
      if (producer === undefined || !serializer) {
        // The head of a task without a source reads records that were decoded, so checked.
        next = { collect: forwardTo(op, downstream) };
      } else {
        const where = describeOperator(plan, producer);
        const flat = flatRecordMatcher();
        next = { collect: checkThenForwardTo((value) => flat(value) || checkRecord(serializer, value, where), op, downstream) };
      }
    }
    this.head = next;
  }

  async open(contextFor: (uid: string) => OperatorContext, sourceUid?: string): Promise<void> {
    if (this.source && sourceUid) await this.source.open(contextFor(sourceUid));
    for (let i = 0; i < this.operators.length; i++) await this.operators[i].open?.(contextFor(this.uids[i]), this.outputs[i]);
  }

  snapshotState(checkpointId: number): void {
    this.source?.snapshotState?.(checkpointId);
    for (const op of this.operators) op.snapshotState?.(checkpointId);
  }

  async notifyComplete(checkpointId: number): Promise<void> {
    await this.source?.notifyCheckpointComplete?.(checkpointId);
    for (const op of this.operators) await op.notifyCheckpointComplete?.(checkpointId);
  }

  async notifyAborted(checkpointId: number): Promise<void> {
    for (const op of this.operators) await op.notifyCheckpointAborted?.(checkpointId);
  }

  /** End of input: each operator flushes into the next, in chain order. */
  async finish(): Promise<void> {
    for (let i = 0; i < this.operators.length; i++) await this.operators[i].finish?.(this.outputs[i]);
  }

  async close(): Promise<void> {
    await this.source?.close?.();
    for (const op of this.operators) await op.close?.();
  }
}

/** `operator Map (uid map-2) emitted a record that cannot be serialized`, for error messages. */
export function describeOperator(plan: VertexPlan, uid: string): string {
  const name = plan.vertex.operators.find((o) => o.uid === uid)?.name ?? uid;
  return `operator ${name} (uid ${uid}) emitted a record that cannot be serialized`;
}

/** Throws the contract's one-line error for a record that breaks it. */
export function checkRecord(serializer: RecordSerializer, value: unknown, where: string): unknown {
  try {
    return serializer.prepare(value);
  } catch (err) {
    if (err instanceof ContractViolation) throw err.toJobError(where, 'record');
    throw err;
  }
}

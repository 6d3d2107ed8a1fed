import type { OperatorContext, Output, SourceOperator, StreamOperator } from '@weir/api/src/internal';
import type { VertexPlan } from '@weir/api/src/internal';

/**
 * The operators of one task, called directly one after the other (operator chaining).
 * The last operator's output goes to the task's record writers.
 */
export class OperatorChain {
  readonly source?: SourceOperator;
  readonly operators: StreamOperator[];
  readonly uids: string[];
  readonly head: Output;
  private readonly outputs: Output[];
  recordsOut = 0;

  constructor(plan: VertexPlan, emit: (value: unknown) => void) {
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
      next = { collect: (value) => op.processElement(value, downstream) };
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

import {
  ContractViolation, keyGroupFor, keyToString, operatorIndexForKeyGroup, RecordSerializer, type Partitioning,
} from '@weir/core';
import type { ResultSubpartition } from './result-subpartition';
import { Signal } from '../signal';

const BATCH_RECORDS = 512;
/** Batches a subpartition may hold undelivered before the producer is backpressured. */
export const MAX_BACKLOG = 4;

/**
 * Writes a task's records to one output edge: picks the subpartition (forward, round
 * robin, by key group, or all), collects records into batches and serializes each batch
 * once. Records arrive checked and prepared by TaskOutput; the key is taken from the
 * record as the operator emitted it.
 */
export class RecordWriter {
  private readonly pending: unknown[][];
  private nextRoundRobin: number;

  constructor(
    readonly subpartitions: ResultSubpartition[],
    private readonly partitioning: Partitioning,
    private readonly keySelector: ((value: unknown) => unknown) | undefined,
    private readonly maxParallelism: number,
    producerSubtask: number,
    private readonly serializer = new RecordSerializer(),
    /** Names the keyed operator in key errors, e.g. `the key selector of Sum (uid sum)`. */
    private readonly keyedConsumer = 'the key selector',
  ) {
    this.pending = subpartitions.map(() => []);
    this.nextRoundRobin = producerSubtask % subpartitions.length;
  }

  /** `prepared` is what goes on the wire (serializer.prepare(value)); the key comes from `value`. */
  emit(value: unknown, prepared: unknown = value): void {
    switch (this.partitioning) {
      case 'FORWARD':
        return this.append(0, prepared);
      case 'REBALANCE': {
        const target = this.nextRoundRobin;
        this.nextRoundRobin = (target + 1) % this.subpartitions.length;
        return this.append(target, prepared);
      }
      case 'HASH': {
        const keyGroup = keyGroupFor(this.keyText(value), this.maxParallelism);
        return this.append(operatorIndexForKeyGroup(keyGroup, this.subpartitions.length, this.maxParallelism), prepared);
      }
      case 'BROADCAST':
        for (let i = 0; i < this.subpartitions.length; i++) this.append(i, prepared);
    }
  }

  private keyText(value: unknown): string {
    try {
      return keyToString((this.keySelector as (v: unknown) => unknown)(value), this.serializer.types);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(this.keyedConsumer, 'key');
      throw err;
    }
  }

  private append(target: number, value: unknown): void {
    const batch = this.pending[target];
    batch.push(value);
    if (batch.length >= BATCH_RECORDS) this.flushOne(target);
  }

  private flushOne(target: number): void {
    const batch = this.pending[target];
    if (batch.length === 0) return;
    this.subpartitions[target].add({ kind: 'batch', data: this.serializer.encodeBatch(batch), count: batch.length });
    this.pending[target] = [];
  }

  flush(): void {
    for (let i = 0; i < this.pending.length; i++) this.flushOne(i);
  }

  /** Barriers travel behind every record emitted before them. */
  broadcastBarrier(checkpointId: number, timestamp: number): void {
    this.flush();
    for (const s of this.subpartitions) s.add({ kind: 'barrier', checkpointId, timestamp });
  }

  broadcastEnd(): void {
    this.flush();
    for (const s of this.subpartitions) s.add({ kind: 'end' });
  }

  isAvailable(): boolean {
    return this.subpartitions.every((s) => s.backlog < MAX_BACKLOG);
  }

  usage(): number {
    return Math.max(0, ...this.subpartitions.map((s) => s.backlog / MAX_BACKLOG));
  }
}

/**
 * All output edges of a task, with one wake-up for when they have room again. Each record
 * is checked against the serializer contract and prepared once, for every edge.
 */
export class TaskOutput {
  readonly writers: RecordWriter[] = [];
  readonly available = new Signal();

  constructor(
    private readonly serializer = new RecordSerializer(),
    /** Names the operator that emits, in contract errors. */
    private readonly producer = 'a task emitted a record that cannot be serialized',
  ) {}

  emit(value: unknown): void {
    if (this.writers.length === 0) return;
    let prepared: unknown;
    try {
      prepared = this.serializer.prepare(value);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(this.producer, 'record');
      throw err;
    }
    for (const w of this.writers) w.emit(value, prepared);
  }

  isAvailable(): boolean {
    return this.writers.every((w) => w.isAvailable());
  }

  flush(): void {
    for (const w of this.writers) w.flush();
  }

  broadcastBarrier(checkpointId: number, timestamp: number): void {
    for (const w of this.writers) w.broadcastBarrier(checkpointId, timestamp);
  }

  broadcastEnd(): void {
    for (const w of this.writers) w.broadcastEnd();
  }

  usage(): number {
    return Math.max(0, ...this.writers.map((w) => w.usage()));
  }
}

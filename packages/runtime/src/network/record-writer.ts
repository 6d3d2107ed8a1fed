import {
  ContractViolation, isFlatBatch, keyGroupFor, keyToString, operatorIndexForKeyGroup, RecordSerializer, type Partitioning,
} from '@weir/core';
import type { ResultSubpartition } from './result-subpartition';
import { Signal } from '../signal';
import { NumberKeyGroups } from './number-key-groups';
import { ownKeySelector } from '../task/own-call-sites';
import { checkRecord } from '../task/operator-chain';

/**
 * Most records in one batch (the segment size caps it by bytes too). Every batch costs a
 * fixed amount on both sides (a channel item, a wake-up, a credit): 2048 records measured
 * 1.25x the throughput of 512 on the keyed benchmark (docs/benchmarks.md).
 */
export const BATCH_RECORDS = 2048;
/** A batch whose encoding came out larger than this is split: gRPC refuses messages above 256 MiB. */
const MAX_BATCH_BYTES = 64 * 1024 * 1024;
/** One batch in this many to a consumer in the same thread is encoded to measure its size. */
const MEASURE_EVERY_LOCAL_BATCHES = 8;
/** Batches a subpartition may hold undelivered before the producer is backpressured. */
export const MAX_BACKLOG = 4;

/**
 * Writes a task's records to one output edge: picks the subpartition (forward, round
 * robin, by key group, or all), collects records into batches and serializes each batch
 * once, or hands it over as it is to a consumer in the same slot thread. Records are
 * checked against the serializer contract either way (RecordSerializer.encodeRecords, or
 * prepare for a batch that is not encoded): a record that breaks it fails the task then,
 * with the producer's name.
 */
export class RecordWriter {
  /**
   * The batch being filled, per subpartition, allocated at the size it is expected to
   * reach: a batch grown by push copied its records about twice over (15 against 7 ns a
   * record with its key groups, in one process).
   */
  private readonly pending: unknown[][];
  /** Records in each pending batch. */
  private readonly counts: number[];
  /**
   * On a hash edge, the key group of each pending record: sent with the batch so the
   * consumer need not hash again. Reused: encoding copies them into the batch.
   */
  private readonly pendingGroups: Uint16Array[];
  /** Records that make a full batch, per subpartition: worked out again after each batch. */
  private readonly limits: number[];
  private nextRoundRobin: number;
  private readonly numberKeyGroups: NumberKeyGroups;
  /** The key selector, called from a site of this writer's own (see own-call-sites.ts). */
  private readonly keyOf: (value: unknown) => unknown;
  /**
   * Encoded bytes per record of the latest batch: batches are cut by count and by bytes
   * without encoding each record twice. Unknown until the first record was measured.
   */
  private bytesPerRecord = 0;
  /** Batches handed to consumers in this thread since one was measured. */
  private unmeasuredBatches = 0;
  /** Names the operator that emits, in contract errors (set by TaskOutput). */
  producer = 'a task emitted a record that cannot be serialized';

  constructor(
    readonly subpartitions: ResultSubpartition[],
    readonly partitioning: Partitioning,
    keySelector: ((value: unknown) => unknown) | undefined,
    private readonly maxParallelism: number,
    producerSubtask: number,
    readonly serializer = new RecordSerializer(),
    /** Names the keyed operator in key errors, e.g. `the key selector of Sum (uid sum)`. */
    private readonly keyedConsumer = 'the key selector',
    /** Largest batch in bytes (`taskmanager.memory.segment-size`). */
    private readonly segmentSize = 32 * 1024,
    readonly consumerVertexId = '',
  ) {
    this.pending = subpartitions.map(() => []);
    this.counts = subpartitions.map(() => 0);
    // Key groups fit 16 bits: max parallelism is at most 32768 (MAX_MAX_PARALLELISM).
    this.pendingGroups = subpartitions.map(() => new Uint16Array(partitioning === 'HASH' ? BATCH_RECORDS : 0));
    this.limits = subpartitions.map(() => 1);
    this.numberKeyGroups = new NumberKeyGroups(maxParallelism);
    this.keyOf = keySelector ? ownKeySelector(keySelector) : () => undefined;
    this.nextRoundRobin = producerSubtask % subpartitions.length;
  }

  emit(value: unknown): void {
    switch (this.partitioning) {
      case 'FORWARD':
        return this.append(0, value);
      case 'REBALANCE': {
        const target = this.nextRoundRobin;
        this.nextRoundRobin = (target + 1) % this.subpartitions.length;
        return this.append(target, value);
      }
      case 'HASH': {
        const keyGroup = this.keyGroupOf(value);
        const target = operatorIndexForKeyGroup(keyGroup, this.subpartitions.length, this.maxParallelism);
        this.pendingGroups[target][this.counts[target]] = keyGroup;
        return this.append(target, value);
      }
      case 'BROADCAST':
        for (let i = 0; i < this.subpartitions.length; i++) this.append(i, value);
    }
  }

  private keyGroupOf(value: unknown): number {
    try {
      const key = this.keyOf(value);
      if (NumberKeyGroups.fits(key, this.maxParallelism)) return this.numberKeyGroups.of(key);
      return keyGroupFor(keyToString(key, this.serializer.types), this.maxParallelism);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(this.keyedConsumer, 'key');
      throw err;
    }
  }

  private append(target: number, value: unknown): void {
    const count = this.counts[target] + 1;
    this.pending[target][count - 1] = value;
    this.counts[target] = count;
    if (this.bytesPerRecord === 0) {
      this.bytesPerRecord = Math.max(1, this.encode([value], undefined).length);
      for (let i = 0; i < this.limits.length; i++) this.limits[i] = this.recordsPerBatch(i);
    }
    if (count >= this.limits[target]) this.flushOne(target);
  }

  /** How many records make a full batch for this subpartition at the current record size. */
  recordsPerBatch(target: number): number {
    const asked = this.subpartitions[target].batchBytes;
    const bytes = asked > 0 ? Math.min(asked, this.segmentSize) : this.segmentSize;
    return Math.max(1, Math.min(BATCH_RECORDS, Math.floor(bytes / Math.max(1, this.bytesPerRecord))));
  }

  /** Records that fill the smallest batch of this edge; 1 until a record was measured. */
  smallestBatch(): number {
    if (this.bytesPerRecord === 0) return 1;
    let least = BATCH_RECORDS;
    for (let i = 0; i < this.subpartitions.length; i++) least = Math.min(least, this.recordsPerBatch(i));
    return least;
  }

  private flushOne(target: number): void {
    const count = this.counts[target];
    if (count === 0) return;
    const batch = this.pending[target];
    if (batch.length !== count) batch.length = count;
    this.counts[target] = 0;
    this.send(target, batch, this.partitioning === 'HASH' ? this.pendingGroups[target].subarray(0, count) : undefined);
    // A new record size, or a batch size the consumer asked for since, counts from the next batch.
    this.limits[target] = this.recordsPerBatch(target);
    this.pending[target] = new Array(this.limits[target]);
  }

  private send(target: number, records: unknown[], groups: Uint16Array | undefined): void {
    const subpartition = this.subpartitions[target];
    if (subpartition.local) {
      // Every few batches one is encoded all the same (which checks it) to keep the bytes
      // per record known: batches are cut by bytes, and records can grow.
      if (++this.unmeasuredBatches >= MEASURE_EVERY_LOCAL_BATCHES) this.measure(records, groups);
      else this.check(records);
      subpartition.add({
        kind: 'batch',
        count: records.length,
        records,
        // The writer reuses its key group column for the next batch.
        keyGroups: groups ? { maxParallelism: this.maxParallelism, groups: groups.slice() } : undefined,
        bytes: Math.round(this.bytesPerRecord * records.length),
        serializer: this.serializer,
      });
      return;
    }
    const data = this.encode(records, groups);
    // Records can change size: the next batch is cut at the size this one had.
    this.bytesPerRecord = Math.max(1, data.length / records.length);
    if (data.length > MAX_BATCH_BYTES && records.length > 1) {
      const half = Math.ceil(records.length / 2);
      this.send(target, records.slice(0, half), groups?.slice(0, half));
      this.send(target, records.slice(half), groups?.slice(half));
      return;
    }
    subpartition.add({ kind: 'batch', data, count: records.length });
  }

  private measure(records: unknown[], groups: Uint16Array | undefined): void {
    this.unmeasuredBatches = 0;
    this.bytesPerRecord = Math.max(1, this.encode(records, groups).length / records.length);
  }

  /** What encoding would check, for records that go to their consumer unencoded. */
  private check(records: unknown[]): void {
    if (isFlatBatch(records)) return;
    for (let i = 0; i < records.length; i++) checkRecord(this.serializer, records[i], this.producer);
  }

  private encode(records: unknown[], groups: Uint16Array | undefined): Buffer {
    try {
      return this.serializer.encodeRecords(records, groups ? { maxParallelism: this.maxParallelism, groups } : undefined);
    } catch (err) {
      if (err instanceof ContractViolation) throw err.toJobError(this.producer, 'record');
      throw err;
    }
  }

  flush(): void {
    for (let i = 0; i < this.pending.length; i++) this.flushOne(i);
  }

  /** Barriers travel behind every record emitted before them. */
  broadcastBarrier(checkpointId: number, timestamp: number, final = false): void {
    this.flush();
    for (const s of this.subpartitions) s.add({ kind: 'barrier', checkpointId, timestamp, final });
  }

  /**
   * Unaligned checkpoint: the barrier overtakes every batch queued for the consumers; the
   * overtaken batches, per subpartition, are returned to be stored with the checkpoint.
   */
  broadcastPriorityBarrier(checkpointId: number, timestamp: number): Buffer[][] {
    this.flush();
    return this.subpartitions.map((s) => s.addPriorityBarrier(checkpointId, timestamp));
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

/** The batches one output edge still held when an unaligned barrier overtook them, per subpartition. */
export interface OutputChannelState {
  consumerVertexId: string;
  partitioning: Partitioning;
  batches: Buffer[][];
}

/**
 * All output edges of a task, with one wake-up for when they have room again. Each record
 * is checked against the serializer contract when its batch is encoded.
 */
export class TaskOutput {
  readonly writers: RecordWriter[] = [];
  readonly available = new Signal();

  constructor(
    /** Names the operator that emits, in contract errors. */
    private readonly producer = 'a task emitted a record that cannot be serialized',
  ) {}

  add(writer: RecordWriter): void {
    writer.producer = this.producer;
    this.writers.push(writer);
  }

  emit(value: unknown): void {
    for (const w of this.writers) w.emit(value);
  }

  isAvailable(): boolean {
    return this.writers.every((w) => w.isAvailable());
  }

  flush(): void {
    for (const w of this.writers) w.flush();
  }

  broadcastBarrier(checkpointId: number, timestamp: number, final = false): void {
    for (const w of this.writers) w.broadcastBarrier(checkpointId, timestamp, final);
  }

  broadcastPriorityBarrier(checkpointId: number, timestamp: number): OutputChannelState[] {
    return this.writers.map((w) => ({
      consumerVertexId: w.consumerVertexId,
      partitioning: w.partitioning,
      batches: w.broadcastPriorityBarrier(checkpointId, timestamp),
    }));
  }

  broadcastEnd(): void {
    for (const w of this.writers) w.broadcastEnd();
  }

  usage(): number {
    return Math.max(0, ...this.writers.map((w) => w.usage()));
  }

  /**
   * How many records a source may emit before it looks at backpressure again: about one
   * batch, so that large records do not pile up hundreds of batches in one call.
   */
  recordsPerCall(max: number): number {
    let n = max;
    for (const w of this.writers) n = Math.min(n, w.smallestBatch());
    return Math.max(1, n);
  }
}

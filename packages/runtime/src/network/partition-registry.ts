import { ResultSubpartition } from './result-subpartition';

/** Partitions are found by job, attempt, producer task and consumer vertex. */
export function partitionKey(jobId: string, attempt: number, producerVertex: string, producerSubtask: number, consumerVertex: string): string {
  return `${jobId}/${attempt}/${producerVertex}/${producerSubtask}/${consumerVertex}`;
}

export interface ResultPartition {
  key: string;
  subpartitions: ResultSubpartition[];
  /** The attempt's exchange token; a remote consumer must show it. */
  token?: string;
}

/**
 * The partitions produced in one slot. A consumer may ask before its producer is
 * deployed, so a lookup waits for a while before it gives up.
 */
export class PartitionRegistry {
  private readonly partitions = new Map<string, ResultPartition>();
  private readonly waiters = new Map<string, ((p: ResultPartition) => void)[]>();

  register(partition: ResultPartition): void {
    this.partitions.set(partition.key, partition);
    const waiting = this.waiters.get(partition.key) ?? [];
    this.waiters.delete(partition.key);
    for (const w of waiting) w(partition);
  }

  unregister(key: string): void {
    for (const s of this.partitions.get(key)?.subpartitions ?? []) s.release();
    this.partitions.delete(key);
  }

  lookup(key: string, timeoutMs: number): Promise<ResultPartition | undefined> {
    const found = this.partitions.get(key);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const list = this.waiters.get(key) ?? [];
      const timer = setTimeout(() => {
        const current = this.waiters.get(key);
        if (current) this.waiters.set(key, current.filter((w) => w !== done));
        resolve(undefined);
      }, timeoutMs);
      const done = (p: ResultPartition) => {
        clearTimeout(timer);
        resolve(p);
      };
      list.push(done);
      this.waiters.set(key, list);
    });
  }

  /** Forgets every partition of a job's attempt older than `attempt` (or all with Infinity). */
  releaseJob(jobId: string, beforeAttempt = Number.POSITIVE_INFINITY): void {
    for (const [key, p] of this.partitions) {
      const [job, attempt] = key.split('/');
      if (job === jobId && Number(attempt) < beforeAttempt) {
        for (const s of p.subpartitions) s.release();
        this.partitions.delete(key);
      }
    }
  }
}

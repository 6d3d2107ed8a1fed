/**
 * Bounded memory for finished jobs (Flink's jobstore.max-capacity and
 * jobstore.expiration-time): a finished job leaves the JobManager's memory, graph, bundle
 * and all, while its record stays in the job store on disk.
 */
import type { Logger } from '@weir/core';
import type { Dispatcher } from './dispatcher';
import { isTerminal } from './scheduler/job-state';

export class JobPruner {
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly maxCapacity: number,
    private readonly expirationMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.prune();
    // A scan of the job map each second is cheap, and keeps the capacity a promptly kept bound.
    this.timer = setInterval(() => this.prune(), Math.max(100, Math.min(this.expirationMs / 2, 1000)));
    this.timer.unref();
  }

  /** Drops expired finished jobs, then the oldest beyond the capacity. Returns the ids dropped. */
  prune(): string[] {
    const finished = [...this.dispatcher.jobs.values()].filter((j) => isTerminal(j.state)).sort((a, b) => b.endTime - a.endTime);
    const now = this.now();
    const dropped = finished.filter((job, i) => i >= this.maxCapacity || now - job.endTime >= this.expirationMs).map((j) => j.jobId);
    for (const id of dropped) this.dispatcher.jobs.delete(id);
    if (dropped.length) this.log.info({ pruned: dropped.length, kept: finished.length - dropped.length }, 'finished jobs pruned from memory; their records stay in the job store');
    return dropped;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

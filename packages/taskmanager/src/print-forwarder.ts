/**
 * Collects what print() sinks write in a slot and hands it on per job, once per turn of
 * the event loop, so an attached `weir run` sees each line within milliseconds. Whatever
 * the slot sends next (a task state, an acknowledgement) goes after the lines printed
 * before it. Print is for watching a job, not for bulk output: above `maxLinesPerSecond`
 * lines are left out of forwarding (stdout still gets them) and counted.
 */
export class PrintForwarder {
  private pending = new Map<string, string[]>();
  private scheduled = false;
  private windowStart = 0;
  private inWindow = 0;
  private dropped = new Map<string, number>();

  constructor(
    private readonly forward: (jobId: string, lines: string[]) => void,
    private readonly maxLinesPerSecond = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(jobId: string, line: string): void {
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (++this.inWindow > this.maxLinesPerSecond) {
      this.dropped.set(jobId, (this.dropped.get(jobId) ?? 0) + 1);
      return;
    }
    const dropped = this.dropped.get(jobId);
    let lines = this.pending.get(jobId);
    if (!lines) this.pending.set(jobId, (lines = []));
    if (dropped) {
      lines.push(`[weir: ${dropped} printed line(s) not forwarded: more than ${this.maxLinesPerSecond} lines/s; the TaskManager's stdout has them]`);
      this.dropped.delete(jobId);
    }
    lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const batches = this.pending;
    this.pending = new Map();
    for (const [jobId, lines] of batches) this.forward(jobId, lines);
  }
}

/**
 * What a job's print() sinks wrote, as the TaskManagers forward it: the latest `capacity`
 * lines, and the clients following the job. An attached `weir run` subscribes right after
 * submitting, so it sees every line; a later follower sees the latest ones and a count of
 * the older lines it missed.
 */
export class JobOutput {
  private lines: string[] = [];
  /** Lines appended since the job started that are no longer kept. */
  private evicted = 0;
  private readonly followers = new Set<(lines: string[]) => void>();

  constructor(private readonly capacity = 1000) {}

  append(lines: string[]): void {
    this.lines.push(...lines);
    if (this.lines.length > this.capacity) {
      const excess = this.lines.length - this.capacity;
      this.lines.splice(0, excess);
      this.evicted += excess;
    }
    for (const follower of this.followers) follower(lines);
  }

  /** The kept lines, then every new batch, until the returned function is called. */
  follow(onLines: (lines: string[], dropped: number) => void): () => void {
    onLines([...this.lines], this.evicted);
    const follower = (lines: string[]) => onLines(lines, 0);
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }
}

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

/** Ids reserved per durable write: one fsync per this many checkpoints. */
const RESERVE = 100;

/**
 * Checkpoint ids that only ever grow, across failovers and JobManager restarts (Flink's
 * CheckpointIDCounter). Before an id is handed out, a file records that every id up to a
 * reserved bound may have been used; a restarted JobManager starts above that bound and
 * above every id it finds on disk. Reusing an id would let a new checkpoint's files
 * replace a committed one's, and retention delete the checkpoint that just completed.
 */
export class CheckpointIdCounter {
  private next = 1;
  private reservedThrough = 0;

  constructor(private readonly file: string | undefined) {
    if (!file) return;
    try {
      const stored = Number(JSON.parse(readFileSync(file, 'utf8')).reservedThrough);
      if (Number.isSafeInteger(stored) && stored > 0) this.next = stored + 1;
    } catch {
      // no counter yet: a new job, or a store written before the counter existed
    }
  }

  /** Ids seen elsewhere on disk (checkpoint directories, statistics) are never handed out again. */
  atLeast(id: number): void {
    if (Number.isSafeInteger(id) && id > this.next) this.next = id;
  }

  /** The next id, made durable before it is returned (a write once per RESERVE ids). */
  take(): number {
    const id = this.next;
    if (id > this.reservedThrough) this.reserve(id + RESERVE - 1);
    this.next = id + 1;
    return id;
  }

  peekLast(): number {
    return this.next - 1;
  }

  private reserve(through: number): void {
    if (this.file) {
      const tmp = `${this.file}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, JSON.stringify({ reservedThrough: through }));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
    }
    this.reservedThrough = through;
  }
}

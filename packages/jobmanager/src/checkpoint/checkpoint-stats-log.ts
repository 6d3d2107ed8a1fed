import { readFileSync } from 'node:fs';
import { appendFile, rename, writeFile } from 'node:fs/promises';
import { describeError, faultPoint, type Logger } from '@weir/core';
import { HISTORY_LIMIT, replayStats, type CheckpointStatsRecord, type CheckpointStatsSnapshot } from './checkpoint-stats';

/** Records appended before the file is rewritten as one snapshot: the file stays bounded. */
const COMPACT_AFTER = 2 * HISTORY_LIMIT;

/**
 * A job's checkpoint statistics on disk as an append-only log of one JSON line per change
 * (`checkpoint-stats.jsonl`). Appends run off the event loop one after another; every
 * COMPACT_AFTER records the log is rewritten as a single snapshot record. Statistics are
 * not worth failing a job for, but a write error is not hidden: it is logged and counted.
 */
export class CheckpointStatsLog {
  writeFailures = 0;
  private chain: Promise<void> = Promise.resolve();
  private appended = 0;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly snapshot: () => CheckpointStatsSnapshot,
  ) {}

  /** Reads a log (or the whole-file JSON of older versions); a torn last line is skipped. */
  static load(file: string, legacyJsonFile?: string): CheckpointStatsSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      if (!legacyJsonFile) return undefined;
      try {
        return JSON.parse(readFileSync(legacyJsonFile, 'utf8')) as CheckpointStatsSnapshot;
      } catch {
        return undefined;
      }
    }
    const records: CheckpointStatsRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as CheckpointStatsRecord);
      } catch {
        // a record torn by a crash mid-append
      }
    }
    return replayStats(records);
  }

  append(record: CheckpointStatsRecord): void {
    const line = `${JSON.stringify(record)}\n`;
    this.chain = this.chain.then(() => this.write(line));
  }

  /** Resolves when every record appended so far is written (or has failed). */
  flushed(): Promise<void> {
    return this.chain;
  }

  private async write(line: string): Promise<void> {
    try {
      await appendFile(this.file, line);
      await faultPoint('jm.stats.saved');
      if (++this.appended >= COMPACT_AFTER) await this.compact();
    } catch (err) {
      this.writeFailures++;
      this.log.warn({ file: this.file, err: describeError(err), failures: this.writeFailures }, 'writing checkpoint statistics failed');
    }
  }

  private async compact(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ type: 'snapshot', snapshot: this.snapshot() } satisfies CheckpointStatsRecord)}\n`);
    await rename(tmp, this.file);
    this.appended = 0;
  }
}

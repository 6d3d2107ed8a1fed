// What persisting one checkpoint's statistics costs the JobManager's event loop as the
// history grows (issue 10, finding 5): the whole-file rewrite of earlier versions
// (JSON of the full history, written synchronously) against today's one appended record.
// Runs in one process, no cluster: npx vite-node scripts/bench/checkpoint-stats-write.ts
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { CheckpointStatsLog } from '../../packages/jobmanager/src/checkpoint/checkpoint-stats-log';
import { CheckpointStatsTracker } from '../../packages/jobmanager/src/checkpoint/checkpoint-stats';

const dir = mkdtempSync(path.join(tmpdir(), 'weir-bench-stats-'));
const ROUNDS = 200;

function fill(tracker: CheckpointStatsTracker, checkpoints: number, tasks: number): void {
  for (let id = 1; id <= checkpoints; id++) {
    tracker.triggered(id, id * 100, tasks, false);
    for (let t = 0; t < tasks; t++) {
      tracker.acknowledged(id, { task: `v${t % 2 + 1}#${t >> 1}@0`, acknowledged_at: id * 100 + 5, sync_duration_ms: 1, async_duration_ms: 3, alignment_duration_ms: 2, state_size: 4096 });
    }
    tracker.completed(id, id * 100 + 40, `/checkpoints/0123456789abcdef0123456789abcdef/chk-${id}`);
  }
}

async function main(): Promise<void> {
  const rows: string[] = ['| parallelism | history | whole-file rewrite (before) | bytes | appended record (now) | bytes |', '|---|---|---|---|---|---|'];
  for (const parallelism of [2, 8]) {
    const tasks = 2 * parallelism; // keyed sum: two vertices
    for (const history of [10, 100, 1000]) {
      const tracker = new CheckpointStatsTracker();
      fill(tracker, history, tasks);
      // Before: JSON of the whole snapshot, written and renamed synchronously on the event loop.
      const file = path.join(dir, `stats-${parallelism}-${history}.json`);
      let bytes = 0;
      let started = process.hrtime.bigint();
      for (let i = 0; i < ROUNDS; i++) {
        const text = JSON.stringify(tracker.snapshot());
        bytes = text.length;
        writeFileSync(`${file}.tmp`, text);
        renameSync(`${file}.tmp`, file);
      }
      const before = Number(process.hrtime.bigint() - started) / 1e6 / ROUNDS;
      // Now: one record per change; the event loop pays for JSON of that record, the write runs in the thread pool.
      const log = new CheckpointStatsLog(path.join(dir, `stats-${parallelism}-${history}.jsonl`), pino({ level: 'silent' }), () => tracker.snapshot());
      tracker.record = (r) => log.append(r);
      let recordBytes = 0;
      started = process.hrtime.bigint();
      for (let i = 0; i < ROUNDS; i++) {
        const id = history + 1 + i;
        tracker.triggered(id, id * 100, tasks, false);
        for (let t = 0; t < tasks; t++) tracker.acknowledged(id, { task: `v1#${t}@0`, acknowledged_at: 1, sync_duration_ms: 1, async_duration_ms: 3, alignment_duration_ms: 2, state_size: 4096 });
        tracker.completed(id, id * 100 + 40, `/checkpoints/0123456789abcdef0123456789abcdef/chk-${id}`);
      }
      const now = Number(process.hrtime.bigint() - started) / 1e6 / ROUNDS;
      recordBytes = JSON.stringify({ type: 'ended', stats: tracker.get(history + 1), counts: tracker.counts }).length;
      await log.flushed();
      rows.push(`| ${parallelism} | ${history} | ${before.toFixed(2)} ms | ${bytes} | ${now.toFixed(3)} ms | ${recordBytes} |`);
    }
  }
  process.stdout.write(`${rows.join('\n')}\n(event-loop time per checkpoint, mean of ${ROUNDS}; "now" includes the tracker's own bookkeeping of the checkpoint)\n`);
  rmSync(dir, { recursive: true, force: true });
}

void main();

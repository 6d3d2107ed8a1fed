import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { JobGraph } from '@weir/core';
import { CheckpointStatsLog } from './checkpoint/checkpoint-stats-log';
import type { CheckpointStatsSnapshot } from './checkpoint/checkpoint-stats';

export interface StoredJob {
  jobId: string;
  graph: JobGraph;
  args: string[];
  config: Record<string, string>;
  submittedAt: number;
  state: string;
  endTime: number;
  failureCause: string;
  attempt: number;
  restarts: number;
  lastRestore?: { timestamp: number; checkpointId: number; path: string; checkpointTimestamp?: number };
  /** When each restart began (the restart strategy's delay had passed), oldest first. */
  restartTimestamps?: number[];
  lastSavepoint?: string;
  exceptions: { timestamp: number; task: string; taskmanager_id: string; root_cause: string }[];
}

export const STATS_LOG = 'checkpoint-stats.jsonl';
export const CHECKPOINT_ID_COUNTER = 'checkpoint-id-counter.json';

function writeAtomically(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/**
 * Submitted jobs on disk (graph, bundle, state), and the checkpoint statistics beside
 * them, so that a restarted JobManager knows its jobs and their history.
 */
export class JobStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Whether a job's record is on disk (ids are hex; nothing else names a path here). */
  hasRecord(jobId: string): boolean {
    return /^[0-9a-f]{32}$/.test(jobId) && existsSync(path.join(this.dir, jobId, 'job.json'));
  }

  recordPath(jobId: string): string {
    return path.join(this.dir, jobId, 'job.json');
  }

  saveSubmission(job: StoredJob, bundle: Buffer): void {
    const jobDir = path.join(this.dir, job.jobId);
    mkdirSync(jobDir, { recursive: true });
    writeAtomically(path.join(jobDir, 'bundle.js'), bundle);
    this.save(job);
  }

  save(job: StoredJob): void {
    writeAtomically(path.join(this.dir, job.jobId, 'job.json'), JSON.stringify(job));
  }

  /** Where a job keeps its own files (statistics log, checkpoint id counter). */
  jobDirectory(jobId: string): string {
    return path.join(this.dir, jobId);
  }

  loadAll(): { job: StoredJob; bundle: Buffer; stats?: CheckpointStatsSnapshot }[] {
    const out: { job: StoredJob; bundle: Buffer; stats?: CheckpointStatsSnapshot }[] = [];
    for (const name of readdirSync(this.dir)) {
      try {
        const jobDir = path.join(this.dir, name);
        const job = JSON.parse(readFileSync(path.join(jobDir, 'job.json'), 'utf8')) as StoredJob;
        const bundle = readFileSync(path.join(jobDir, 'bundle.js'));
        const stats = CheckpointStatsLog.load(path.join(jobDir, STATS_LOG), path.join(jobDir, 'checkpoint-stats.json'));
        out.push({ job, bundle, stats });
      } catch {
        // a half-written submission is skipped
      }
    }
    return out;
  }
}

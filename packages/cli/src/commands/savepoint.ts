/**
 * `weir savepoint`, `weir savepoint --dispose`, `weir stop` and `weir checkpoint`: ask the
 * JobManager for a snapshot, then poll its trigger until it completed or failed.
 */
import path from 'node:path';
import { CheckpointError, JobError } from '@weir/core';
import { WeirClient, withClient } from '../client';

interface TriggerStatus { status: string; kind: string; checkpoint_id: number; path: string; failure_reason: string }

const POLL_MS = 200;

/** Polls a trigger until it is settled; bounded by `timeoutMs`. */
async function awaitTrigger(client: WeirClient, jobId: string, triggerId: string, timeoutMs: number): Promise<TriggerStatus> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await client.call<TriggerStatus>('GetTrigger', { job_id: jobId, trigger_id: triggerId });
    if (status.status !== 'IN_PROGRESS') return status;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new CheckpointError(`no answer within ${timeoutMs} ms; the JobManager goes on with it (trigger ${triggerId})`);
}

function print(json: boolean, data: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`);
}

/** A directory the JobManager can use: relative ones are meant from where the user is. */
function absolute(dir: string | undefined): string {
  return dir ? path.resolve(dir) : '';
}

export async function triggerSavepoint(address: string, jobId: string, targetDir: string | undefined, opts: { json: boolean; timeoutMs: number }): Promise<number> {
  return withClient(address, async (c) => {
    process.stderr.write(`Triggering savepoint for job ${jobId}.\n`);
    const { trigger_id } = await c.call<{ trigger_id: string }>('TriggerSavepoint', { job_id: jobId, target_dir: absolute(targetDir) });
    const s = await awaitTrigger(c, jobId, trigger_id, opts.timeoutMs);
    if (s.status !== 'COMPLETED') throw new CheckpointError(`savepoint of job ${jobId} failed: ${s.failure_reason}`);
    print(opts.json, { job_id: jobId, ...s }, `Savepoint completed. Path: ${s.path}`);
    return 0;
  });
}

export async function disposeSavepoint(address: string, location: string, json: boolean): Promise<number> {
  return withClient(address, async (c) => {
    const res = await c.call<{ path: string }>('DisposeSavepoint', { path: path.resolve(location) });
    print(json, res, `Savepoint ${res.path} disposed.`);
    return 0;
  });
}

export async function stopJob(address: string, jobId: string, opts: { savepointPath?: string; drain: boolean; json: boolean; timeoutMs: number }): Promise<number> {
  return withClient(address, async (c) => {
    process.stderr.write(`Suspending job ${jobId}${opts.drain ? ' (draining its input)' : ''}.\n`);
    const { trigger_id } = await c.call<{ trigger_id: string }>('StopJob', { job_id: jobId, target_dir: absolute(opts.savepointPath), drain: opts.drain });
    const s = await awaitTrigger(c, jobId, trigger_id, opts.timeoutMs);
    if (s.status !== 'COMPLETED') throw new CheckpointError(`stop with savepoint of job ${jobId} failed, the job keeps running: ${s.failure_reason}`);
    // The savepoint is complete; the tasks end right after it.
    const deadline = Date.now() + opts.timeoutMs;
    let state = '';
    while (Date.now() < deadline) {
      state = (await c.call<{ summary: { state: string } }>('GetJob', { job_id: jobId })).summary.state;
      if (state === 'FINISHED' || state === 'FAILED' || state === 'CANCELED') break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (state !== 'FINISHED') throw new JobError(`job ${jobId} took savepoint ${s.path} but ended ${state || 'not at all'} instead of FINISHED`);
    print(opts.json, { job_id: jobId, state, ...s }, `Savepoint completed. Path: ${s.path}\nJob ${jobId}: ${state}`);
    return 0;
  });
}

export async function triggerCheckpoint(address: string, jobId: string, opts: { full: boolean; json: boolean; timeoutMs: number }): Promise<number> {
  return withClient(address, async (c) => {
    const { trigger_id } = await c.call<{ trigger_id: string }>('TriggerCheckpoint', { job_id: jobId, full: opts.full });
    const s = await awaitTrigger(c, jobId, trigger_id, opts.timeoutMs);
    if (s.status !== 'COMPLETED') throw new CheckpointError(`checkpoint of job ${jobId} failed: ${s.failure_reason}`);
    // Every Weir checkpoint is full (there are no incremental ones), so --full changes nothing.
    print(opts.json, { job_id: jobId, ...s }, `Checkpoint ${s.checkpoint_id} for job ${jobId} completed. Path: ${s.path}`);
    return 0;
  });
}

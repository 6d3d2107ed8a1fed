// kill -9 of the TaskManager that runs sink subtask 0, then GetJob every 20 ms over gRPC
// until every subtask is RUNNING in a newer attempt, and a caller-supplied probe until the
// first output of the restarted job. Shared by weir.mjs and recovery.mjs.

import fs from 'node:fs';
import path from 'node:path';
import { children, round, sleep, tmPidOf } from './common.mjs';
import { firstSinkLineAfter } from './sink-files.mjs';

/**
 * firstOutput(killEpochMs, ctx) -> epoch ms of the first new output, or null (not yet).
 * Returns the run's figures.
 */
export async function killAndMeasure(cluster, jobId, { log, firstOutput, pollMs = 20, timeoutMs = 120000 }) {
  const before = await cluster.getJob(jobId);
  const subs0 = before.vertices.flatMap((v) => v.subtasks);
  if (!subs0.every((s) => s.state === 'RUNNING')) throw new Error('job not fully RUNNING before the kill');
  const maxAttempt = Math.max(...subs0.map((s) => s.attempt));
  const sinkVertex = before.vertices.find((v) => /sink|discard/i.test(v.name)) ?? before.vertices[before.vertices.length - 1];
  const victimTm = sinkVertex.subtasks.find((s) => s.subtask === 0).taskmanager_id;
  const victimPid = await tmPidOf(cluster, victimTm);
  if (!victimPid || !cluster.tmPids.has(victimPid)) throw new Error(`cannot map TaskManager ${victimTm} to a pid we started (${victimPid})`);
  const ctx = { restoredId: null, jobAttemptBefore: before.attempt, restartsBefore: before.summary.restarts };
  log(`kill -9 ${victimTm} (pid ${victimPid}), which runs sink subtask 0`);
  const killT = Date.now();
  const killP = performance.now();
  process.kill(victimPid, 'SIGKILL');
  cluster.tmPids.delete(victimPid);
  let detectedMs = null, runningMs = null, firstOutMs = null, restarts = 0;
  let last = null;
  while (performance.now() - killP < timeoutMs && (runningMs === null || firstOutMs === null)) {
    if (runningMs === null) {
      try {
        const j = await cluster.getJob(jobId);
        last = j;
        const now = performance.now() - killP;
        const subs = j.vertices.flatMap((v) => v.subtasks);
        if (detectedMs === null && subs.some((s) => s.state !== 'RUNNING' || s.attempt > maxAttempt)) detectedMs = now;
        if (subs.every((s) => s.state === 'RUNNING' && s.attempt > maxAttempt)) runningMs = now;
        if (j.last_restore_checkpoint_id) ctx.restoredId = j.last_restore_checkpoint_id;
        if (j.summary.state === 'FAILED') throw new Error(`job FAILED: ${j.failure_cause}`);
      } catch (e) {
        if (/FAILED/.test(e.message)) throw e;
      }
    }
    if (firstOutMs === null) {
      const ts = firstOutput(killT, ctx, maxAttempt);
      if (ts !== null) firstOutMs = ts - killT;
    }
    if (runningMs === null || firstOutMs === null) await sleep(pollMs);
  }
  if (last) restarts = last.summary.restarts - ctx.restartsBefore;
  const run = {
    kill_to_failure_detected_ms: round(detectedMs), kill_to_running_ms: round(runningMs), kill_to_first_output_ms: round(firstOutMs),
    restarts, killed: victimTm, restored_checkpoint_id: ctx.restoredId,
  };
  log(`recovered: ${JSON.stringify(run)}`);
  if (runningMs === null) throw new Error(`job did not recover within ${timeoutMs} ms (${path.join(cluster.dir, 'logs')})`);
  return run;
}


export { children, firstSinkLineAfter };

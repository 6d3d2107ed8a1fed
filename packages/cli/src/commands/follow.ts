import type { WeirClient } from '../client';

import { time } from '../table';

interface JobSummary { state: string; restarts: number }
interface JobDetails {
  summary: JobSummary;
  failure_cause: string;
  exceptions: { timestamp: number; root_cause: string }[];
  restart_timestamps: number[];
}

/**
 * Follows a job until it ends: each state change to stderr and, with `printOutput`, what
 * the job's print() sinks write to stdout as the JobManager receives it (Flink shows this
 * only in the TaskManagers' .out files; an attached `weir run` shows it here too).
 * Exit code 0 only for FINISHED.
 */
export async function followJob(client: WeirClient, jobId: string, options: { printOutput?: boolean } = {}): Promise<number> {
  let last = '';
  let failuresSeen = 0;
  let restartsSeen = 0;
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  const output = options.printOutput
    ? client.stream<{ lines: string[]; dropped: number }>('FollowJobOutput', { job_id: jobId }, (m) => {
        if (m.dropped > 0) process.stderr.write(`[${m.dropped} printed line(s) not shown]\n`);
        if (m.lines.length) process.stdout.write(`${m.lines.join('\n')}\n`);
      })
    : undefined;
  // The output stream only informs: a broken one must not end the follow.
  const outputDone = output?.done.catch(() => undefined);
  const drain = async () => {
    // The JobManager ends the stream once the job has ended and every line is out.
    if (outputDone) await Promise.race([outputDone, new Promise((r) => setTimeout(r, 2000))]);
  };
  try {
    for (;;) {
      const details = await client.call<JobDetails>('GetJob', { job_id: jobId });
      const state = details.summary.state;
      const line = `${state}${details.summary.restarts ? ` (restarts: ${details.summary.restarts})` : ''}`;
      // Each failure and restart with its time, in order, so the restart strategy's delays can be read off.
      const events: [number, string][] = details.exceptions.slice(failuresSeen).map((e) => [e.timestamp, `failed at ${time(e.timestamp)}: ${e.root_cause.split('\n')[0]}`]);
      for (const [i, at] of details.restart_timestamps.slice(restartsSeen).entries()) {
        const n = restartsSeen + i;
        const failure = details.exceptions[n]?.timestamp;
        events.push([at, `restart ${n + 1} at ${time(at)}${failure ? `, ${at - failure} ms after the failure` : ''}`]);
      }
      for (const [, text] of events.sort((a, b) => a[0] - b[0])) process.stderr.write(`Job ${jobId}: ${text}\n`);
      failuresSeen = details.exceptions.length;
      restartsSeen = details.restart_timestamps.length;
      if (line !== last) {
        process.stderr.write(`Job ${jobId}: ${line}\n`);
        last = line;
      }
      if (state === 'FINISHED') {
        await drain();
        return 0;
      }
      if (state === 'FAILED' || state === 'CANCELED') {
        await drain();
        if (details.failure_cause) process.stderr.write(`Cause: ${details.failure_cause}\n`);
        return 1;
      }
      if (stop) {
        process.stderr.write(`Stopped following; the job runs on (weir cancel ${jobId} stops it)\n`);
        return 0;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    output?.cancel();
    process.off('SIGINT', onSignal);
  }
}

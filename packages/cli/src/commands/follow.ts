import type { WeirClient } from '../client';

interface JobSummary { state: string; restarts: number }
interface JobDetails { summary: JobSummary; failure_cause: string }

/** Polls the job until it ends; prints each state change. Exit code 0 only for FINISHED. */
export async function followJob(client: WeirClient, jobId: string): Promise<number> {
  let last = '';
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  try {
    for (;;) {
      const details = await client.call<JobDetails>('GetJob', { job_id: jobId });
      const state = details.summary.state;
      const line = `${state}${details.summary.restarts ? ` (restarts: ${details.summary.restarts})` : ''}`;
      if (line !== last) {
        process.stderr.write(`Job ${jobId}: ${line}\n`);
        last = line;
      }
      if (state === 'FINISHED') return 0;
      if (state === 'FAILED' || state === 'CANCELED') {
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
    process.off('SIGINT', onSignal);
  }
}

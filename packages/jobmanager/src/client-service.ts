import { describeError, grpc, JobError, WeirError, type JobGraph } from '@weir/core';
import type { Dispatcher } from './dispatcher';
import type { ResourceManager } from './resource-manager';
import { disposeSavepoint } from './checkpoint/savepoint-store';
import { isTerminal } from './scheduler/job-state';
import { jobDetails, listedJobs, checkpointsView, taskmanagersView } from './views';

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** Maps our error kinds to gRPC codes so the client can print one clear line. */
function unary<Req, Res>(fn: (req: Req) => Res | Promise<Res>): Handler<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then((res) => callback(null, res))
      .catch((err: unknown) => {
        const notFound = err instanceof JobError && /^no (job with id|trigger)/.test(err.message);
        const code = notFound ? grpc.status.NOT_FOUND : err instanceof WeirError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
        callback({ code, details: describeError(err) });
      });
  };
}

export function clientHandlers(dispatcher: Dispatcher, rm: ResourceManager) {
  return {
    SubmitJob: unary(async (req: { graph: JobGraph; bundle: Buffer; args: string[]; config: Record<string, string>; dry_run?: boolean }) => {
      const { jobId, report } = await dispatcher.submit(req.graph, req.bundle, req.args ?? [], req.config ?? {}, !!req.dry_run);
      return { job_id: jobId, restore_report: report };
    }),
    ListJobs: unary((req: { include_archived?: boolean }) => ({ jobs: listedJobs(dispatcher, !!req.include_archived) })),
    GetJob: unary((req: { job_id: string }) => jobDetails(dispatcher.get(req.job_id))),
    CancelJob: unary(async (req: { job_id: string }) => {
      const job = dispatcher.get(req.job_id);
      await job.cancel();
      return { state: job.state };
    }),
    GetCheckpoints: unary((req: { job_id: string }) => checkpointsView(dispatcher.get(req.job_id))),
    ListTaskManagers: unary(() => ({ taskmanagers: taskmanagersView(rm) })),
    TriggerSavepoint: unary((req: { job_id: string; target_dir: string }) => ({ trigger_id: dispatcher.get(req.job_id).requestSnapshot('SAVEPOINT', req.target_dir) })),
    StopJob: unary((req: { job_id: string; target_dir: string; drain: boolean }) => ({ trigger_id: dispatcher.get(req.job_id).requestSnapshot('STOP', req.target_dir, req.drain) })),
    TriggerCheckpoint: unary((req: { job_id: string }) => ({ trigger_id: dispatcher.get(req.job_id).requestSnapshot('CHECKPOINT') })),
    GetTrigger: unary((req: { job_id: string; trigger_id: string }) => {
      const status = dispatcher.get(req.job_id).triggers.get(req.trigger_id);
      if (!status) throw new JobError(`no trigger ${req.trigger_id} for job ${req.job_id}`);
      return status;
    }),
    DisposeSavepoint: unary(async (req: { path: string }) => ({ path: await disposeSavepoint(req.path) })),
    FollowJobOutput: followJobOutput(dispatcher),
  };
}

/** Streams what the job prints until it ends; a slow reader loses lines, counted, not the JobManager's memory. */
function followJobOutput(dispatcher: Dispatcher) {
  return (call: grpc.ServerWritableStream<{ job_id: string }, unknown>) => {
    let job: ReturnType<Dispatcher['get']>;
    try {
      job = dispatcher.get(call.request.job_id);
    } catch (err) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: describeError(err) });
      return;
    }
    let dropped = 0;
    let ended = false;
    const unfollow = job.output.follow((lines, older) => {
      dropped += older;
      if (ended || (lines.length === 0 && dropped === 0)) return;
      if (call.writableLength > 1000) {
        dropped += lines.length;
        return;
      }
      call.write({ lines, dropped });
      dropped = 0;
    });
    // Lines arrive before the task states that end the job, so at its end the stream is complete.
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(watch);
      unfollow();
      if (dropped > 0) call.write({ lines: [], dropped });
      call.end();
    };
    const watch = setInterval(() => isTerminal(job.state) && end(), 100);
    call.on('cancelled', end);
    call.on('error', end);
  };
}

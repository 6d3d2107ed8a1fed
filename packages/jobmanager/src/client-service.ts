import { describeError, grpc, JobError, WeirError, type JobGraph } from '@weir/core';
import type { Dispatcher } from './dispatcher';
import type { ResourceManager } from './resource-manager';
import { jobDetails, jobSummary, checkpointsView, taskmanagersView } from './views';

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** Maps our error kinds to gRPC codes so the client can print one clear line. */
function unary<Req, Res>(fn: (req: Req) => Res | Promise<Res>): Handler<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then((res) => callback(null, res))
      .catch((err: unknown) => {
        const notFound = err instanceof JobError && /^no job with id/.test(err.message);
        const code = notFound ? grpc.status.NOT_FOUND : err instanceof WeirError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
        callback({ code, details: describeError(err) });
      });
  };
}

export function clientHandlers(dispatcher: Dispatcher, rm: ResourceManager) {
  return {
    SubmitJob: unary((req: { graph: JobGraph; bundle: Buffer; args: string[]; config: Record<string, string> }) => ({
      job_id: dispatcher.submit(req.graph, req.bundle, req.args ?? [], req.config ?? {}),
    })),
    ListJobs: unary(() => ({ jobs: [...dispatcher.jobs.values()].map(jobSummary) })),
    GetJob: unary((req: { job_id: string }) => jobDetails(dispatcher.get(req.job_id))),
    CancelJob: unary(async (req: { job_id: string }) => {
      const job = dispatcher.get(req.job_id);
      await job.cancel();
      return { state: job.state };
    }),
    GetCheckpoints: unary((req: { job_id: string }) => checkpointsView(dispatcher.get(req.job_id))),
    ListTaskManagers: unary(() => ({ taskmanagers: taskmanagersView(rm) })),
  };
}

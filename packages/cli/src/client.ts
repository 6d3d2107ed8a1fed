import { CHANNEL_OPTIONS, grpc, protos, RpcError, type Configuration } from '@weir/core';

const DEADLINE_MS = 5_000;

export function jobmanagerAddress(explicit: string | undefined, config: Configuration): string {
  return explicit ?? process.env.WEIR_JOBMANAGER ?? `${config.getString('jobmanager.rpc.address')}:${config.getNumber('jobmanager.rpc.port')}`;
}

/** A typed, promise-based ClientService stub; every failure becomes one clear RpcError. */
export class WeirClient {
  private readonly client: grpc.Client & Record<string, Function>;

  constructor(readonly address: string) {
    this.client = new (protos().ClientService)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as grpc.Client & Record<string, Function>;
  }

  call<Res>(method: string, request: object, deadlineMs = DEADLINE_MS): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client[method](request, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: Res) => {
        if (!err) return resolve(res);
        if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
          reject(new RpcError(`cannot reach the JobManager at ${this.address}: ${unreachableReason(err)}`));
        } else {
          reject(new RpcError(err.details || err.message));
        }
      });
    });
  }

  /** A server stream: `onData` per message; `done` settles when the server ends it (or it breaks). */
  stream<Res>(method: string, request: object, onData: (res: Res) => void): { done: Promise<void>; cancel(): void } {
    const call = this.client[method](request) as grpc.ClientReadableStream<Res>;
    call.on('data', onData);
    const done = new Promise<void>((resolve, reject) => {
      call.on('end', () => resolve());
      call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? resolve() : reject(new RpcError(err.details || err.message))));
    });
    return { done, cancel: () => call.cancel() };
  }

  close(): void {
    this.client.close();
  }
}

/** gRPC's details are long and technical; say what went wrong in a few words. */
function unreachableReason(err: grpc.ServiceError): string {
  const details = err.details || '';
  if (/ECONNREFUSED/.test(details)) return 'connection refused (is the JobManager running?)';
  if (/ENOTFOUND|EAI_AGAIN|Name resolution failed/i.test(details)) return 'host not found';
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return `no answer within ${DEADLINE_MS / 1000} s`;
  return details.split('. Resolution note')[0] || 'unavailable';
}

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
          reject(new RpcError(`cannot reach the JobManager at ${this.address}: ${err.details || 'unavailable'}`));
        } else {
          reject(new RpcError(err.details || err.message));
        }
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

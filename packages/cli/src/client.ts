import { authToken, bearerMetadata, CHANNEL_OPTIONS, clientChannel, Configuration, grpc, protos, RpcError } from '@weir/core';

const DEADLINE_MS = 5_000;

/** The configuration of this CLI run: TLS material and token for every client it makes. */
let clientConfig = new Configuration();
export function useClientConfig(config: Configuration): void {
  clientConfig = config;
}

export function jobmanagerAddress(explicit: string | undefined, config: Configuration): string {
  return explicit ?? process.env.WEIR_JOBMANAGER ?? `${config.getString('jobmanager.rpc.address')}:${config.getNumber('jobmanager.rpc.port')}`;
}

/** A typed, promise-based ClientService stub; every failure becomes one clear RpcError. */
export class WeirClient {
  private readonly client: grpc.Client & Record<string, Function>;
  private readonly token: string | undefined;

  constructor(readonly address: string, config: Configuration = clientConfig) {
    this.token = authToken(config, process.env);
    const channel = clientChannel(config, address);
    this.client = new (protos().ClientService)(address, channel.credentials, { ...CHANNEL_OPTIONS, ...channel.options }) as grpc.Client & Record<string, Function>;
  }

  call<Res>(method: string, request: object, deadlineMs = DEADLINE_MS): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client[method](request, bearerMetadata(this.token), { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: Res) => {
        if (!err) return resolve(res);
        if (err.code === grpc.status.UNAUTHENTICATED) {
          reject(new RpcError(`the JobManager at ${this.address} refused the call (UNAUTHENTICATED): ${err.details}`));
        } else if (err.code === grpc.status.RESOURCE_EXHAUSTED) {
          reject(new RpcError(`the JobManager at ${this.address} refused the request as too large (jobmanager.submission.max-size): ${err.details}`));
        } else if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
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
  if (/certificate|SSL|TLS|handshake|alert/i.test(details)) return `TLS handshake failed (check security.ssl.* and the CA): ${details.split('\n')[0].split('. Resolution note')[0]}`;
  if (/ENOTFOUND|EAI_AGAIN|Name resolution failed/i.test(details)) return 'host not found';
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return `no answer within ${DEADLINE_MS / 1000} s`;
  if (/No connection established/.test(details)) return 'no connection (is the JobManager running, and does it ask for TLS: security.ssl.*?)';
  return details.split('. Resolution note')[0] || 'unavailable';
}

/** Runs `fn` with a client of the JobManager at `address`, closed afterwards. */
export async function withClient<T>(address: string, fn: (c: WeirClient) => Promise<T>): Promise<T> {
  const client = new WeirClient(address);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

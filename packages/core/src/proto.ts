import { existsSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Where the .proto files are: beside the bundle when built, the repository root otherwise. */
function protoRoot(): string {
  const candidates = [
    process.env.WEIR_PROTO_DIR,
    path.join(__dirname, 'proto'),
    path.resolve(__dirname, '../../../proto'),
    path.resolve(__dirname, '../../proto'),
    path.resolve(process.cwd(), 'proto'),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(path.join(p, 'weir/v1/cluster.proto')));
  if (!found) throw new Error(`cannot find weir/v1/*.proto (looked in ${candidates.join(', ')})`);
  return found;
}

export interface WeirProtos {
  JobManagerService: grpc.ServiceClientConstructor;
  DataExchange: grpc.ServiceClientConstructor;
  ClientService: grpc.ServiceClientConstructor;
}

let loaded: WeirProtos | undefined;

/** Loads the protos once per process; every client and server is built from these. */
export function protos(): WeirProtos {
  if (loaded) return loaded;
  const root = protoRoot();
  const definition = protoLoader.loadSync(['weir/v1/cluster.proto', 'weir/v1/exchange.proto', 'weir/v1/client.proto'], {
    includeDirs: [root],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { weir: { v1: Record<string, grpc.ServiceClientConstructor> } };
  const v1 = pkg.weir.v1;
  loaded = { JobManagerService: v1.JobManagerService, DataExchange: v1.DataExchange, ClientService: v1.ClientService };
  return loaded;
}

/** Channel options shared by every side: big messages for job bundles, fast failure. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
  'grpc.max_send_message_length': 256 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_time_between_pings_ms': 5_000,
  'grpc-node.max_session_memory': 64,
};

/**
 * The data exchange runs on slot threads, which user code keeps busy for as long as one
 * record takes: a peer that does not answer a keepalive ping for a few seconds is busy,
 * not gone (a killed process resets the connection at once). So the exchange waits for a
 * ping's answer as long as the default heartbeat.timeout before it drops a connection.
 */
export const DATA_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...CHANNEL_OPTIONS,
  'grpc.keepalive_timeout_ms': 50_000,
};

export function bindServer(server: grpc.Server, address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  // grpc-js logs a failed bind to stderr itself; the caller says it in one line, with the key.
  grpc.setLogVerbosity(grpc.logVerbosity.NONE);
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  }).finally(() => grpc.setLogVerbosity(grpc.logVerbosity.ERROR));
}

export { grpc };

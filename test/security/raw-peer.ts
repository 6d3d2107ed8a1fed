/**
 * A hostile peer for the security tests: grpc-js clients built straight from proto/,
 * with none of Weir's own client code, so what they can do is what anyone on the network
 * can do. Every call is bounded in time.
 */
import path from 'node:path';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_DIR = path.resolve(__dirname, '../../proto');

type Ctor = grpc.ServiceClientConstructor;
let services: { JobManagerService: Ctor; ClientService: Ctor; DataExchange: Ctor } | undefined;

function load() {
  if (services) return services;
  const def = protoLoader.loadSync(['weir/v1/cluster.proto', 'weir/v1/client.proto', 'weir/v1/exchange.proto'], {
    includeDirs: [PROTO_DIR], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
  });
  const v1 = (grpc.loadPackageDefinition(def) as unknown as { weir: { v1: Record<string, Ctor> } }).weir.v1;
  services = { JobManagerService: v1.JobManagerService, ClientService: v1.ClientService, DataExchange: v1.DataExchange };
  return services;
}

export const insecure = () => grpc.credentials.createInsecure();

/** TLS that trusts `ca` (or nothing it knows) and shows `cert`/`key` when given; host names unchecked. */
export function tlsCredentials(ca: string | undefined, cert?: string, key?: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(ca ? Buffer.from(ca) : null, key ? Buffer.from(key) : null, cert ? Buffer.from(cert) : null, {
    checkServerIdentity: () => undefined,
  });
}

const OPTIONS = { 'grpc.max_send_message_length': 512 * 1024 * 1024, 'grpc.max_receive_message_length': 512 * 1024 * 1024 };

export interface SessionOutcome {
  /** gRPC status the stream ended with (undefined: still open when we stopped listening). */
  code?: number;
  details?: string;
  /** Messages the JobManager sent, by kind. */
  received: string[];
}

/**
 * Opens a TaskManager session, writes `messages` in order (the first usually a register),
 * listens for `listenMs`, then cancels. Deploy messages sent to us show up in `received`.
 */
export function rawSession(address: string, creds: grpc.ChannelCredentials, messages: object[], listenMs = 1500): Promise<SessionOutcome> {
  const client = new (load().JobManagerService)(address, creds, OPTIONS) as unknown as { Session(): grpc.ClientDuplexStream<object, { kind: string }>; close(): void };
  return new Promise((resolve) => {
    const outcome: SessionOutcome = { received: [] };
    const call = client.Session();
    let stopped = false;
    call.on('data', (m: { kind: string }) => outcome.received.push(m.kind));
    call.on('error', (err: grpc.ServiceError) => {
      if (stopped) return; // our own cancel
      outcome.code = err.code;
      outcome.details = err.details;
    });
    for (const m of messages) call.write(m);
    setTimeout(() => {
      stopped = true;
      call.cancel();
      client.close();
      resolve(outcome);
    }, listenMs);
  });
}

/** One unary ClientService call; resolves with the status code (0 = OK) and details. */
export function rawUnary(address: string, creds: grpc.ChannelCredentials, method: string, request: object, metadata = new grpc.Metadata(), deadlineMs = 5000): Promise<{ code: number; details: string; response?: unknown }> {
  const client = new (load().ClientService)(address, creds, OPTIONS) as unknown as grpc.Client & Record<string, Function>;
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, response: unknown) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '', response });
    });
  });
}

/** A partition request on a data port; counts the record batches we are given before the stream ends. */
export function rawConsume(address: string, creds: grpc.ChannelCredentials, request: object, listenMs = 3000): Promise<{ code?: number; details?: string; batches: number; records: number }> {
  const client = new (load().DataExchange)(address, creds, OPTIONS) as unknown as { Consume(): grpc.ClientDuplexStream<object, { kind: string; batch?: { count: number } }>; close(): void };
  return new Promise((resolve) => {
    const out: { code?: number; details?: string; batches: number; records: number } = { batches: 0, records: 0 };
    const call = client.Consume();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      call.cancel();
      client.close();
      resolve(out);
    };
    call.on('data', (m: { kind: string; batch?: { count: number } }) => {
      if (m.kind === 'batch') {
        out.batches++;
        out.records += m.batch?.count ?? 0;
        call.write({ credit: { credit: 1 } });
      }
    });
    call.on('error', (err: grpc.ServiceError) => {
      out.code = err.code;
      out.details = err.details;
      finish();
    });
    call.write({ request });
    setTimeout(finish, listenMs);
  });
}

/** Sends raw bytes to a TCP port and returns what comes back within `ms` (the status line is enough). */
export function rawHttp(port: number, bytes: string | Buffer, ms = 2000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

export { grpc };

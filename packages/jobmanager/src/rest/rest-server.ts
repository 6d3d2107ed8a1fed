import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError, JobError, type Configuration, type Logger } from '@weir/core';
import type { Dispatcher } from '../dispatcher';
import type { ResourceManager } from '../resource-manager';
import { DASHBOARD_ASSETS } from '../web/dashboard';
import { jobDetails } from '../views';
import { OPERATION_ROUTES } from './rest-operations';
import {
  checkpointDetailsView, checkpointsRestView, configView, exceptionsView, jobsView, overviewView, taskmanagersRestView,
} from './rest-views';

export interface RestServer {
  port: number;
  close(): Promise<void>;
}

interface RestContext {
  dispatcher: Dispatcher;
  rm: ResourceManager;
  config: Configuration;
  metrics: Registry;
}

/** A response: JSON by default; a route may answer with text of its own type. */
type Reply = { status?: number; json?: unknown; text?: string; type?: string };
type Route = { pattern: RegExp; handle: (ctx: RestContext, params: string[], query: URLSearchParams) => Reply | Promise<Reply> };

class NotFound extends Error {}

function job(ctx: RestContext, id: string) {
  const master = ctx.dispatcher.jobs.get(id) ?? ctx.dispatcher.archived.get(id);
  if (!master) throw new NotFound(`no job with id ${id}`);
  return master;
}

const ROUTES: Route[] = [
  { pattern: /^\/overview$/, handle: (ctx) => ({ json: overviewView(ctx.dispatcher, ctx.rm) }) },
  { pattern: /^\/jobs$/, handle: (ctx) => ({ json: jobsView(ctx.dispatcher) }) },
  { pattern: /^\/jobs\/([^/]+)$/, handle: (ctx, [id]) => ({ json: { ...jobDetails(job(ctx, id)), now: Date.now() } }) },
  {
    pattern: /^\/jobs\/([^/]+)\/checkpoints$/,
    handle: (ctx, [id], query) => {
      const limit = query.has('limit') ? Number(query.get('limit')) : undefined;
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new JobError(`limit must be a whole number, not "${query.get('limit')}"`);
      return { json: checkpointsRestView(job(ctx, id), limit) };
    },
  },
  {
    pattern: /^\/jobs\/([^/]+)\/checkpoints\/details\/([^/]+)$/,
    handle: (ctx, [id, cid]) => {
      const details = checkpointDetailsView(job(ctx, id), Number(cid));
      if (!details) throw new NotFound(`job ${id} has no statistics for checkpoint ${cid}`);
      return { json: details };
    },
  },
  { pattern: /^\/jobs\/([^/]+)\/exceptions$/, handle: (ctx, [id]) => ({ json: exceptionsView(job(ctx, id)) }) },
  { pattern: /^\/taskmanagers$/, handle: (ctx) => ({ json: taskmanagersRestView(ctx.rm) }) },
  { pattern: /^\/config$/, handle: (ctx) => ({ json: configView(ctx.config) }) },
  { pattern: /^\/metrics$/, handle: async (ctx) => ({ text: await ctx.metrics.metrics(), type: ctx.metrics.contentType }) },
];

const MAX_BODY = 64 * 1024;

function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) reject(new JobError(`the request body is larger than ${MAX_BODY} bytes`));
    });
    req.on('end', () => {
      if (!text.trim()) return resolve({});
      try {
        const body = JSON.parse(text) as unknown;
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
        resolve(body as Record<string, unknown>);
      } catch {
        reject(new JobError('the request body is not a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

/** Savepoint, stop and checkpoint operations (rest-operations.ts); undefined when none matches. */
function operation(ctx: RestContext, req: http.IncomingMessage, pathname: string): Promise<Reply> | undefined {
  for (const r of OPERATION_ROUTES) {
    const m = r.pattern.exec(pathname);
    if (!m || r.method !== (req.method === 'HEAD' ? 'GET' : req.method)) continue;
    const params = m.slice(1).map(decodeURIComponent);
    return (r.method === 'POST' ? readJsonBody(req) : Promise.resolve({})).then((body) => r.handle(ctx.dispatcher, params, body)).catch((err: Error) => {
      throw (err as { notFound?: boolean }).notFound ? new NotFound(err.message) : err;
    });
  }
  return undefined;
}

function route(ctx: RestContext, pathname: string, query: URLSearchParams): Promise<Reply> {
  const asset = DASHBOARD_ASSETS[pathname === '/' ? '/index.html' : pathname];
  if (asset) return Promise.resolve({ text: asset.body, type: asset.type });
  for (const r of ROUTES) {
    const m = r.pattern.exec(pathname);
    if (m) return Promise.resolve().then(() => r.handle(ctx, m.slice(1).map(decodeURIComponent), query));
  }
  return Promise.reject(new NotFound(`no such REST endpoint: ${pathname}`));
}

/**
 * The JobManager's HTTP port: a JSON API on Flink's paths (read-only but for savepoints,
 * stop and checkpoints, see rest-operations.ts), the web dashboard
 * at `/`, and Prometheus metrics at `/metrics`. Errors answer `{"errors": [message]}`
 * as Flink's REST API does.
 */
export async function startRestServer(ctx: RestContext, log: Logger): Promise<RestServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: string, type: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const op = operation(ctx, req, pathname);
    if (!op && req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, JSON.stringify({ errors: [`${req.method} ${pathname} is not supported: POST is accepted on /jobs/:id/savepoints, /jobs/:id/stop and /jobs/:id/checkpoints`] }), 'application/json');
      return;
    }
    (op ?? route(ctx, pathname, url.searchParams)).then(
      (reply) => send(reply.status ?? 200, reply.text ?? JSON.stringify(reply.json), reply.type ?? 'application/json; charset=utf-8'),
      (err: Error) => {
        const status = err instanceof NotFound ? 404 : err instanceof JobError ? 400 : 500;
        if (status === 500) log.error({ err, path: pathname }, 'REST request failed');
        send(status, JSON.stringify({ errors: [err.message] }), 'application/json; charset=utf-8');
      },
    );
  });
  const host = ctx.config.getString('rest.bind-address');
  const wanted = ctx.config.getNumber('rest.port');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ConfigError(`cannot serve the REST API on ${host}:${wanted} (rest.port): ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`)),
    );
    server.listen(wanted, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ restPort: port, url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}/` }, 'REST API and dashboard listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

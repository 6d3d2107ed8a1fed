import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError, JobError, restTls, type Configuration, type Logger } from '@weir/core';
import { BadRequest, baseHeaders, decodeSegment, parseTarget, unauthorized } from './request-guard';
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
  /** security.auth.token: every API request must carry it. */
  token?: string;
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

function dashboardAsset(pathname: string) {
  return DASHBOARD_ASSETS[pathname === '/' ? '/index.html' : pathname];
}

const MAX_BODY = 64 * 1024;

/** A POST body: a JSON object (or nothing), sent as application/json, which a page on another origin cannot send unasked. */
function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      return reject(new BadRequest('POST needs Content-Type: application/json'));
    }
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) reject(new BadRequest(`the request body is larger than ${MAX_BODY} bytes`));
    });
    req.on('end', () => {
      if (!text.trim()) return resolve({});
      try {
        const body = JSON.parse(text) as unknown;
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
        resolve(body as Record<string, unknown>);
      } catch {
        reject(new BadRequest('the request body is not a JSON object'));
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
    return Promise.resolve()
      .then(() => {
        const params = m.slice(1).map(decodeSegment);
        return r.method === 'POST' ? readJsonBody(req).then((body) => r.handle(ctx.dispatcher, params, body)) : r.handle(ctx.dispatcher, params, {});
      })
      .catch((err: Error) => {
        throw (err as { notFound?: boolean }).notFound ? new NotFound(err.message) : err;
      });
  }
  return undefined;
}

function route(ctx: RestContext, pathname: string, query: URLSearchParams): Promise<Reply> {
  const asset = dashboardAsset(pathname);
  if (asset) return Promise.resolve({ text: asset.body, type: asset.type });
  for (const r of ROUTES) {
    const m = r.pattern.exec(pathname);
    if (m) return Promise.resolve().then(() => r.handle(ctx, m.slice(1).map(decodeSegment), query));
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
  const allowOrigin = ctx.config.getOptionalString('web.access-control-allow-origin');
  const tls = restTls(ctx.config);
  const handler: http.RequestListener = (req, res) => {
    const send = (status: number, body: string, type: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...baseHeaders(type, allowOrigin), ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const fail = (status: number, message: string, extra: Record<string, string> = {}) =>
      send(status, JSON.stringify({ errors: [message] }), 'application/json; charset=utf-8', extra);
    // A browser on the configured origin asks first whether it may send the token.
    if (req.method === 'OPTIONS' && allowOrigin) {
      res.writeHead(204, { ...baseHeaders('text/plain', allowOrigin), 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' });
      res.end();
      return;
    }
    const POSTS = 'POST is accepted on /jobs/:id/savepoints, /jobs/:id/stop and /jobs/:id/checkpoints';
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') return fail(405, `${req.method} is not supported: the REST API reads with GET; ${POSTS}`);
    let pathname: string;
    let query: URLSearchParams;
    try {
      ({ pathname, query } = parseTarget(req.url));
    } catch (err) {
      return fail(400, (err as Error).message);
    }
    // The dashboard's files hold no data; everything else is behind the token.
    const denied = dashboardAsset(pathname) ? undefined : unauthorized(req, ctx.token);
    if (denied) return fail(401, denied, { 'www-authenticate': 'Bearer' });
    const op = operation(ctx, req, pathname);
    if (!op && req.method === 'POST') return fail(405, `POST ${pathname} is not supported: ${POSTS}`);
    (op ?? route(ctx, pathname, query)).then(
      (reply) => send(reply.status ?? 200, reply.text ?? JSON.stringify(reply.json), reply.type ?? 'application/json; charset=utf-8'),
      (err: Error) => {
        const status = err instanceof NotFound ? 404 : err instanceof JobError || err instanceof BadRequest ? 400 : 500;
        if (status === 500) log.error({ err, path: pathname }, 'REST request failed');
        fail(status, status === 500 ? 'internal error (see the JobManager log)' : err.message);
      },
    );
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // A request line or header that is not HTTP gets a 400 and the socket is closed; nothing else happens.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
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
  log.info({ restPort: port, url: `${tls ? 'https' : 'http'}://${host === '0.0.0.0' ? 'localhost' : host}:${port}/` }, 'REST API and dashboard listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

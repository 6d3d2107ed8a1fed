/**
 * What every REST request passes before a route sees it: a URL that parses (else 400),
 * the bearer token when one is configured (else 401), and CORS only when configured.
 */
import type { IncomingMessage } from 'node:http';
import { tokenMatches } from '@weir/core';

export class BadRequest extends Error {}

export interface ParsedRequest {
  pathname: string;
  query: URLSearchParams;
}

/** Parses the request target; anything that is not a plain origin-form path is a 400. */
export function parseTarget(raw: string | undefined): ParsedRequest {
  const target = raw ?? '/';
  if (!target.startsWith('/') || target.startsWith('//') || target.length > 4096) throw new BadRequest('malformed request path');
  let url: URL;
  try {
    url = new URL(target, 'http://localhost');
  } catch {
    throw new BadRequest('malformed request path');
  }
  const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  return { pathname, query: url.searchParams };
}

/** decodeURIComponent that answers 400 instead of throwing a URIError into a 500. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest(`malformed escape in path segment "${segment.slice(0, 64)}"`);
  }
}

/** Undefined when the request may pass; otherwise the one line a 401 carries. */
export function unauthorized(req: IncomingMessage, token: string | undefined): string | undefined {
  if (!token) return undefined;
  const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (presented === undefined) return 'this REST API needs a bearer token (Authorization: Bearer <security.auth.token>)';
  return tokenMatches(token, presented) ? undefined : 'the bearer token is not valid';
}

/** Response headers every answer carries; CORS only for the configured origin. */
export function baseHeaders(type: string, allowOrigin: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (allowOrigin) headers['access-control-allow-origin'] = allowOrigin;
  return headers;
}

/**
 * TLS material and tokens, built once from the configuration and handed to every gRPC
 * server and client, so no other file decides how a connection is secured.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Configuration } from './config';
import { ConfigError } from './errors';

/** PEM text (not paths): plain strings cross into slot threads through workerData. */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
  /** Common name of `cert`: the identity every internal peer must present. */
  commonName: string;
}

function readPem(config: Configuration, key: string): string {
  const file = config.getOptionalString(key);
  if (!file) throw new ConfigError(`${key} must be set when TLS is enabled`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function commonNameOf(pem: string, key: string): string {
  let subject: string;
  try {
    subject = new X509Certificate(pem).subject;
  } catch (err) {
    throw new ConfigError(`${key} is not a PEM certificate: ${(err as Error).message}`);
  }
  return /(?:^|\n)CN=([^\n]*)/.exec(subject)?.[1] ?? '';
}

function material(config: Configuration, prefix: 'security.ssl.internal' | 'security.ssl.rest'): TlsMaterial {
  const cert = readPem(config, `${prefix}.cert`);
  return { ca: readPem(config, `${prefix}.ca`), cert, key: readPem(config, `${prefix}.key`), commonName: commonNameOf(cert, `${prefix}.cert`) };
}

/** The cluster's own identity, or undefined when internal TLS is off. */
export function internalTls(config: Configuration): TlsMaterial | undefined {
  return config.get('security.ssl.internal.enabled') === true ? material(config, 'security.ssl.internal') : undefined;
}

/** What the REST server presents, or undefined when REST TLS is off. */
export function restTls(config: Configuration): { cert: string; key: string } | undefined {
  if (config.get('security.ssl.rest.enabled') !== true) return undefined;
  return { cert: readPem(config, 'security.ssl.rest.cert'), key: readPem(config, 'security.ssl.rest.key') };
}

/** Strict mutual TLS: a peer without a certificate of our CA never gets past the handshake. */
export function internalServerCredentials(tls: TlsMaterial | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(Buffer.from(tls.ca), [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], true);
}

/**
 * Internal peers are checked by identity, not by host name: TaskManagers in containers
 * are reached by ids that no certificate can list in advance (as Flink's internal SSL).
 */
export function internalChannelCredentials(tls: TlsMaterial | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key), Buffer.from(tls.cert), {
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      String(cert.subject?.CN) === tls.commonName ? undefined : new Error(`peer certificate is "${cert.subject?.CN}", not the cluster's "${tls.commonName}"`),
  });
}

/**
 * Channel options that go with internal credentials: a TLS server name that is not an IP
 * address (Node refuses those in SNI), since the identity check above ignores it anyway.
 */
export function internalChannelOptions(tls: TlsMaterial | undefined): grpc.ChannelOptions {
  return tls ? { 'grpc.ssl_target_name_override': tls.commonName || 'weir-internal' } : {};
}

/**
 * The JobManager's one gRPC port serves TaskManagers and clients: mutual TLS when internal
 * TLS is on (clients present a certificate of the same CA), server TLS for clients when only
 * REST TLS is on, plain otherwise.
 */
export function jobManagerServerCredentials(config: Configuration): grpc.ServerCredentials {
  const internal = internalTls(config);
  if (internal) return internalServerCredentials(internal);
  const rest = restTls(config);
  if (!rest) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(rest.cert), private_key: Buffer.from(rest.key) }], false);
}

/**
 * The CLI's channel to the JobManager: trusts the REST CA (or the internal one), checks the
 * JobManager's name or address against its certificate, and shows a client certificate
 * when it has one.
 */
export function clientChannel(config: Configuration, address: string): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  const internalOn = config.get('security.ssl.internal.enabled') === true;
  if (!internalOn && config.get('security.ssl.rest.enabled') !== true) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  // An IP address cannot be a TLS server name: send a placeholder name and check the address itself.
  const byAddress = isIP(host) !== 0;
  const verify = { checkServerIdentity: (name: string, cert: PeerCertificate) => checkServerIdentity(byAddress ? host : name, cert) };
  const options: grpc.ChannelOptions = byAddress ? { 'grpc.ssl_target_name_override': 'weir-jobmanager' } : {};
  const pick = (name: 'ca' | 'cert' | 'key') => config.getOptionalString(`security.ssl.rest.${name}`) ? `security.ssl.rest.${name}` : `security.ssl.internal.${name}`;
  const ca = readPem(config, pick('ca'));
  const hasCert = !!config.getOptionalString(pick('cert'));
  if (internalOn && !hasCert) throw new ConfigError('security.ssl.internal.enabled: the JobManager asks clients for a certificate of the cluster CA; set security.ssl.rest.cert and security.ssl.rest.key');
  const credentials = hasCert
    ? grpc.credentials.createSsl(Buffer.from(ca), Buffer.from(readPem(config, pick('key'))), Buffer.from(readPem(config, pick('cert'))), verify)
    : grpc.credentials.createSsl(Buffer.from(ca), null, null, verify);
  return { credentials, options };
}

/** Common name of the peer's verified certificate, or undefined (plain connection, no certificate). */
export function peerCommonName(call: { getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } }): string | undefined {
  const cn = call.getAuthContext?.().sslPeerCertificate?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/** The bearer token from security.auth.token or security.auth.token-file (and $WEIR_AUTH_TOKEN for clients). */
export function authToken(config: Configuration, env?: NodeJS.ProcessEnv): string | undefined {
  const inline = config.getOptionalString('security.auth.token');
  if (inline) return inline;
  const file = config.getOptionalString('security.auth.token-file');
  if (file) {
    try {
      const token = readFileSync(file, 'utf8').trim();
      if (!token) throw new ConfigError(`security.auth.token-file ${file} is empty`);
      return token;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`security.auth.token-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return env?.WEIR_AUTH_TOKEN || undefined;
}

/** Constant-time comparison: the time an answer takes says nothing about the token. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** `authorization: Bearer <token>` metadata for a client call. */
export function bearerMetadata(token: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

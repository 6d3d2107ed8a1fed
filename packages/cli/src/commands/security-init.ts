/**
 * `weir security init DIR`: a local CA, the cluster's certificate, a client certificate,
 * a bearer token, and two configuration files that point at them. Certificates are built
 * with node-forge (keys from node:crypto), not by hand: X.509 encoding is easy to get
 * subtly wrong, and the system's openssl is not in every image.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { ConfigError } from '@weir/core';

/** The identity every JobManager and TaskManager presents; the CLI's is different. */
export const INTERNAL_CN = 'weir-internal';
export const CLIENT_CN = 'weir-client';

export interface SecurityInitOptions {
  dir: string;
  /** Extra names the JobManager is reached by (SANs of the cluster certificate). */
  hosts: string[];
  days: number;
  force: boolean;
}

interface Issued {
  certPem: string;
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

function newKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem: privateKey };
}

function issue(commonName: string, days: number, extensions: object[], signer?: Issued): Issued {
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`; // positive, unique
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'Weir cluster' }]);
  cert.setIssuer(signer ? signer.cert.subject.attributes : cert.subject.attributes);
  cert.setExtensions([...extensions, { name: 'subjectKeyIdentifier' }]);
  cert.sign(signer ? signer.key : keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey, certPem: forge.pki.certificateToPem(cert), keyPem: keys.pem };
}

function altNames(hosts: string[]): object[] {
  const names = [...new Set(['localhost', '127.0.0.1', '::1', 'jobmanager', os.hostname(), ...hosts])];
  return names.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? { type: 7, ip: h } : { type: 2, value: h }));
}

/** Writes DIR/{ca,internal,client}.pem with keys, DIR/token, DIR/cluster.yaml and DIR/client.yaml. */
export function securityInit(options: SecurityInitOptions): string[] {
  const dir = path.resolve(options.dir);
  if (existsSync(path.join(dir, 'ca.pem')) && !options.force) throw new ConfigError(`${dir} already holds a CA (ca.pem); use --force to replace it`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = issue('Weir local CA', options.days, [
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  const leaf = (cn: string, server: boolean) =>
    issue(cn, options.days, [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: server, clientAuth: true },
      ...(server ? [{ name: 'subjectAltName', altNames: altNames(options.hosts) }] : []),
    ], ca);
  const internal = leaf(INTERNAL_CN, true);
  const client = leaf(CLIENT_CN, false);
  const token = randomBytes(32).toString('base64url');
  const file = (name: string) => path.join(dir, name);
  const secret = { mode: 0o600 };
  writeFileSync(file('ca.pem'), ca.certPem);
  writeFileSync(file('ca-key.pem'), ca.keyPem, secret);
  writeFileSync(file('internal.pem'), internal.certPem);
  writeFileSync(file('internal-key.pem'), internal.keyPem, secret);
  writeFileSync(file('client.pem'), client.certPem);
  writeFileSync(file('client-key.pem'), client.keyPem, secret);
  writeFileSync(file('token'), `${token}\n`, secret);
  // Paths relative to the YAML file: the directory can move (a container mounts it elsewhere).
  // The cluster's processes: mutual TLS inside, HTTPS for REST, the token for clients.
  writeFileSync(file('cluster.yaml'), [
    'security.ssl.internal.enabled: true',
    'security.ssl.internal.cert: internal.pem',
    'security.ssl.internal.key: internal-key.pem',
    'security.ssl.internal.ca: ca.pem',
    'security.ssl.rest.enabled: true',
    'security.ssl.rest.cert: internal.pem',
    'security.ssl.rest.key: internal-key.pem',
    'security.ssl.rest.ca: ca.pem',
    'security.auth.token-file: token',
    '',
  ].join('\n'));
  // The CLI: trusts the CA, shows the client certificate, sends the token.
  writeFileSync(file('client.yaml'), [
    'security.ssl.rest.enabled: true',
    'security.ssl.rest.cert: client.pem',
    'security.ssl.rest.key: client-key.pem',
    'security.ssl.rest.ca: ca.pem',
    'security.auth.token-file: token',
    '',
  ].join('\n'));
  return ['ca.pem', 'ca-key.pem', 'internal.pem', 'internal-key.pem', 'client.pem', 'client-key.pem', 'token', 'cluster.yaml', 'client.yaml'].map(file);
}

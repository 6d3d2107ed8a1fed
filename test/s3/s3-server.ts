/**
 * A real S3-compatible server for tests: versitygw serving a temp directory, installed
 * once per machine by scripts/s3/ensure-s3-server.sh and started here by its own pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freePort, waitFor } from '../harness';

export const S3_ACCESS_KEY = 'weir-test';
export const S3_SECRET_KEY = 'weir-test-secret';
const ROOT = path.resolve(__dirname, '../..');

let binary: string | undefined;

/** The server's binary, built on first use (a few minutes) and cached for every later run. */
export function ensureS3ServerBinary(): string {
  binary ??= execFileSync('bash', [path.join(ROOT, 'scripts/s3/ensure-s3-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 })
    .trim()
    .split('\n')
    .at(-1) as string;
  return binary;
}

export interface S3Server {
  endpoint: string;
  dataDir: string;
  process: ChildProcess;
  /** `-D` style settings that point Weir at this server. */
  config: Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** The keys under `prefix` in `bucket`, sorted. */
  keysUnder(bucket: string, prefix: string): Promise<string[]>;
  /** The text of one object. */
  readObject(bucket: string, key: string): Promise<string>;
  /** Kills the server; resolves once it has exited (its port is free again), at most 10 s. */
  stop(): Promise<void>;
}

/** A client of the test server, as the test itself (not Weir) sees the store; destroy it after use. */
export function testS3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } });
}

/** Starts the server on `host:port` (port 0: a free one), optionally inside a network namespace. */
export async function startS3Server(options: { host?: string; port?: number; netns?: string; dataDir?: string } = {}): Promise<S3Server> {
  const bin = ensureS3ServerBinary();
  const host = options.host ?? '127.0.0.1';
  const port = options.port || (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'weir-s3-'));
  mkdirSync(dataDir, { recursive: true });
  const log = openSync(path.join(dataDir, '..', `${path.basename(dataDir)}-server.log`), 'a');
  const args = ['--quiet', '--port', `${host}:${port}`, '--access', S3_ACCESS_KEY, '--secret', S3_SECRET_KEY, 'posix', dataDir];
  const child = options.netns ? spawn('ip', ['netns', 'exec', options.netns, bin, ...args], { stdio: ['ignore', log, log] }) : spawn(bin, args, { stdio: ['ignore', log, log] });
  const endpoint = `http://${host}:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      // The next server on the same address must find the port free.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    }
  };
  const reachable = options.netns ? () => inNamespaceAnswers(options.netns as string, host, port) : () => answers(host, port);
  try {
    await waitFor(`the S3 server on ${endpoint}`, async () => child.exitCode === null && (await reachable()), 20_000, 100);
  } catch (err) {
    await stop();
    throw err;
  }
  const config = {
    's3.endpoint': endpoint,
    's3.path.style.access': 'true',
    's3.access-key': S3_ACCESS_KEY,
    's3.secret-key': S3_SECRET_KEY,
  };
  const client = () => testS3Client(endpoint);
  return {
    endpoint,
    dataDir,
    process: child,
    config,
    stop,
    async keysUnder(bucket: string, prefix: string) {
      const c = client();
      try {
        const out = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        return (out.Contents ?? []).map((o) => o.Key as string).sort();
      } finally {
        c.destroy();
      }
    },
    async readObject(bucket: string, key: string) {
      const c = client();
      try {
        const out = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await out.Body?.transformToString()) ?? '';
      } finally {
        c.destroy();
      }
    },
    async createBucket(name: string) {
      if (options.netns) {
        // The test process is outside the namespace: a bucket of the posix backend is a directory.
        mkdirSync(path.join(dataDir, name), { recursive: true });
        return;
      }
      const c = client();
      try {
        await c.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        c.destroy();
      }
    },
  };
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function inNamespaceAnswers(netns: string, host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', `require('net').connect(${port}, '${host}').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`], { stdio: 'ignore' });
    probe.on('close', (code) => resolve(code === 0));
  });
}

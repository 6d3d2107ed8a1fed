/**
 * The S3 checkpoint storage against a real S3-compatible server (versitygw on loopback):
 * every operation of the storage interface, multipart uploads, entropy injection, bounded
 * retries on 503 SlowDown (a real HTTP proxy in front of the server answers some requests
 * with it), and one clear message for each bad input.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3CheckpointStorage, type S3Settings } from '../../packages/runtime/src/checkpoint/storage/index';
import { parseS3Location } from '../../packages/runtime/src/checkpoint/storage/s3-location';
import { freePort } from '../harness';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startS3Server, type S3Server } from './s3-server';

const MB = 1024 * 1024;
let server: S3Server;

function settings(extra: Partial<S3Settings> = {}): S3Settings {
  return {
    endpoint: server.endpoint, pathStyleAccess: true, region: 'us-east-1', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY,
    entropyLength: 4, retryLimit: 3, retryIntervalMs: 20, connectionTimeoutMs: 2000, multipartThreshold: 5 * MB, multipartSize: 5 * MB, ...extra,
  };
}

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket('checkpoints');
}, 900_000);
afterAll(() => server?.stop());

describe('S3 checkpoint storage on a real S3 server', () => {
  it('writes, reads, lists, commits and deletes, counting PUTs and bytes', async () => {
    const s3 = new S3CheckpointStorage(settings());
    const dir = 's3://checkpoints/root/job1/chk-1';
    const a = randomBytes(1000);
    expect(await s3.write(`${dir}/v1-0.state`, a)).toEqual({ location: `${dir}/v1-0.state`, puts: 1 });
    await s3.write(`${dir}/v1-1.state`, randomBytes(10));
    await s3.commit(`${dir}/_metadata`, '{"id":1}');
    expect(s3.counters).toEqual({ puts: 3, bytes: 1000 + 10 + 8 });
    expect(await s3.list(dir)).toEqual(['_metadata', 'v1-0.state', 'v1-1.state']);
    expect(Buffer.compare(await s3.read(`${dir}/v1-0.state`), a)).toBe(0);
    expect(await s3.list(dir)).toEqual(['_metadata', 'v1-0.state', 'v1-1.state']);
    expect(await s3.list('s3://checkpoints/root/job1')).toEqual(['chk-1']);
    expect(await s3.list('s3://checkpoints/root/nothing')).toEqual([]);
    expect(await s3.exists(`${dir}/_metadata`)).toBe(true);
    await s3.move(`${dir}/v1-1.state`, 's3://checkpoints/root/savepoint-1/v1-1.state');
    expect(await s3.list('s3://checkpoints/root/savepoint-1')).toEqual(['v1-1.state']);
    expect((await s3.read('s3://checkpoints/root/savepoint-1/v1-1.state')).length).toBe(10);
    await s3.move('s3://checkpoints/root/savepoint-1/v1-1.state', `${dir}/v1-1.state`);
    await s3.delete(`${dir}/v1-1.state`);
    expect(await s3.exists(`${dir}/v1-1.state`)).toBe(false);
    await s3.deleteDirectory(dir);
    expect(await s3.list(dir)).toEqual([]);
    await expect(s3.read(`${dir}/_metadata`)).rejects.toThrow(`${dir}/_metadata does not exist`);
    s3.close();
  });

  it('uploads a file above s3.multipart.threshold in parts and reads it back whole', async () => {
    const s3 = new S3CheckpointStorage(settings());
    const big = randomBytes(12 * MB + 123);
    await s3.write('s3://checkpoints/big/v1-0.state', big);
    // CreateMultipartUpload, 3 parts of at most 5 MB, CompleteMultipartUpload
    expect(s3.counters.puts).toBe(5);
    expect(Buffer.compare(await s3.read('s3://checkpoints/big/v1-0.state'), big)).toBe(0);
    await s3.deleteDirectory('s3://checkpoints/big');
    s3.close();
  });

  it('entropy injection: state files under random prefixes, _metadata without the marker; the directory is deleted whole', async () => {
    const s3 = new S3CheckpointStorage(settings({ entropyKey: '_entropy_', entropyLength: 6 }));
    const dir = 's3://checkpoints/_entropy_/ent/job2/chk-3';
    const { location: written } = await s3.write(`${dir}/v1-0.state`, randomBytes(100));
    expect(written).toMatch(/^s3:\/\/checkpoints\/[a-z0-9]{6}\/ent\/job2\/chk-3\/v1-0\.state$/);
    await s3.commit(`${dir}/_metadata`, 'm');
    expect(await s3.list('s3://checkpoints/ent/job2/chk-3')).toEqual(['_metadata']);
    expect((await s3.read(`${dir}/_metadata`)).toString()).toBe('m');
    expect((await s3.read(written)).length).toBe(100);
    await s3.deleteDirectory(dir);
    expect(await s3.exists(written)).toBe(false);
    expect(await s3.exists('s3://checkpoints/ent/job2/chk-3/_metadata')).toBe(false);
    s3.close();
  });

  it('503 SlowDown is retried with backoff up to s3.retry.limit, then one error that says so', async () => {
    const proxy = await slowDownProxy(2);
    const s3 = new S3CheckpointStorage(settings({ endpoint: proxy.endpoint, retryLimit: 3 }));
    await s3.write('s3://checkpoints/throttled/a.state', randomBytes(10));
    expect(s3.retries).toBe(2);
    expect(s3.counters.puts).toBe(1);
    s3.close();
    proxy.throttleNext(5);
    const strict = new S3CheckpointStorage(settings({ endpoint: proxy.endpoint, retryLimit: 1 }));
    await expect(strict.write('s3://checkpoints/throttled/b.state', randomBytes(10))).rejects.toThrow(
      `PUT s3://checkpoints/throttled/b.state at ${proxy.endpoint} failed (after 2 attempts): SlowDown (HTTP 503): Please reduce your request rate.`,
    );
    strict.close();
    proxy.close();
  });

  it('each bad input is one clear error: bad URL, wrong credentials, unreachable endpoint, missing bucket', async () => {
    expect(() => parseS3Location('s3:///path')).toThrow('"s3:///path" names no bucket: write s3://bucket/path');
    expect(() => parseS3Location('s3://Bad_Bucket/x')).toThrow('"s3://Bad_Bucket/x": "Bad_Bucket" is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)');
    expect(() => parseS3Location('s3://bucket/a/../b')).toThrow('"s3://bucket/a/../b": a key must not contain . or .. segments');

    const wrong = new S3CheckpointStorage(settings({ secretKey: 'not-the-secret' }));
    await expect(wrong.write('s3://checkpoints/x/a.state', randomBytes(1))).rejects.toThrow(
      `${server.endpoint} refused the credentials for bucket "checkpoints" (SignatureDoesNotMatch): check s3.access-key and s3.secret-key or the AWS credential chain (PUT s3://checkpoints/x/a.state)`,
    );
    wrong.close();

    const port = await freePort();
    const unreachable = new S3CheckpointStorage(settings({ endpoint: `http://127.0.0.1:${port}`, retryLimit: 1 }));
    await expect(unreachable.write('s3://checkpoints/x/a.state', randomBytes(1))).rejects.toThrow(
      `cannot reach the object store at http://127.0.0.1:${port}: ECONNREFUSED (after 2 attempts) (PUT s3://checkpoints/x/a.state)`,
    );
    unreachable.close();

    const s3 = new S3CheckpointStorage(settings());
    await expect(s3.write('s3://no-such-bucket/x/a.state', randomBytes(1))).rejects.toThrow(
      `bucket "no-such-bucket" does not exist at ${server.endpoint} (PUT s3://no-such-bucket/x/a.state)`,
    );
    await expect(s3.probe('s3://no-such-bucket/x')).rejects.toThrow(`bucket "no-such-bucket" does not exist at ${server.endpoint} (LIST s3://no-such-bucket/x)`);
    s3.close();
  });
});

/** A real HTTP proxy to the S3 server that answers the next n requests with 503 SlowDown. */
async function slowDownProxy(initial: number): Promise<{ endpoint: string; throttleNext(n: number): void; close(): void }> {
  let throttle = initial;
  const target = new URL(server.endpoint);
  const proxy = http.createServer((req, res) => {
    if (throttle > 0) {
      throttle--;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    throttleNext: (n) => (throttle = n),
    close: () => proxy.close(),
  };
}

/**
 * Checkpoint storage on an S3-compatible object store, through the AWS SDK v3. Large files
 * go up in parts; a throttled (503 SlowDown) or unanswered request is retried a bounded
 * number of times with doubling backoff; `_metadata` is one PUT, which S3 makes visible
 * whole or not at all, so it stays the commit point.
 */
import {
  CopyObjectCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { CheckpointStorage, StorageCounters, WriteResult } from './checkpoint-storage';
import { describeS3Failure, isNotFound, isRetryable } from './s3-errors';
import { parseS3Location, withEntropy, withoutEntropy, type S3Address } from './s3-location';
import type { S3Settings } from './storage-settings';

/** Pages of a listing read at most: a bound on every loop, 1000 keys a page. */
const MAX_LIST_PAGES = 1000;
const MAX_BACKOFF_MS = 30_000;

export class S3CheckpointStorage implements CheckpointStorage {
  readonly kind = 's3' as const;
  readonly counters: StorageCounters = { puts: 0, bytes: 0 };
  /** Requests that were retried, for the tests and the logs. */
  retries = 0;
  private readonly client: S3Client;
  readonly endpointName: string;

  constructor(
    private readonly settings: S3Settings,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.endpointName = settings.endpoint ?? `AWS S3 (${settings.region})`;
    // The SDK warns on Node 20 about its releases of 2027; this one is pinned and supports it.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      endpoint: settings.endpoint,
      forcePathStyle: settings.pathStyleAccess,
      region: settings.region,
      credentials: settings.accessKey && settings.secretKey ? { accessKeyId: settings.accessKey, secretAccessKey: settings.secretKey } : undefined,
      // Retries are ours (below): bounded, counted, and the same for every request kind.
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ connectionTimeout: settings.connectionTimeoutMs, requestTimeout: settings.connectionTimeoutMs }),
      // Checksums the SDK would add by default are not understood by every S3-compatible store.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async write(location: string, data: Uint8Array): Promise<WriteResult> {
    const address = parseS3Location(location);
    const key = withEntropy(address.key, this.settings.entropyKey, this.settings.entropyLength);
    const target = `s3://${address.bucket}/${key}`;
    let puts = 1;
    if (data.length > this.settings.multipartThreshold) {
      puts = await this.multipart({ bucket: address.bucket, key }, data, target);
    } else {
      await this.request('PUT', target, address.bucket, () => this.client.send(new PutObjectCommand({ Bucket: address.bucket, Key: key, Body: data })));
    }
    this.counters.puts += puts;
    this.counters.bytes += data.length;
    return { location: target, puts };
  }

  async commit(location: string, data: Uint8Array | string, beforeCommit?: () => Promise<void> | undefined): Promise<void> {
    const { bucket, key } = this.address(location);
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    await beforeCommit?.();
    await this.request('PUT', location, bucket, () => this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
    this.counters.puts++;
    this.counters.bytes += body.length;
  }

  async read(location: string): Promise<Buffer> {
    const { bucket, key } = this.address(location);
    return this.request('GET', location, bucket, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    });
  }

  async readRange(location: string, offset: number, length: number): Promise<Buffer> {
    if (length === 0) return Buffer.alloc(0);
    const { bucket, key } = this.address(location);
    return this.request('GET', location, bucket, async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}` }));
      return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    });
  }

  async exists(location: string): Promise<boolean> {
    const { bucket, key } = this.address(location);
    try {
      await this.request('HEAD', location, bucket, () => this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
      return true;
    } catch (err) {
      if ((err as { missing?: boolean }).missing) return false;
      throw err;
    }
  }

  async list(directory: string): Promise<string[]> {
    const { bucket, key } = this.address(directory);
    const prefix = key ? `${key}/` : '';
    const names = new Set<string>();
    let token: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const out = await this.request('LIST', directory, bucket, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token })),
      );
      for (const o of out.Contents ?? []) if (o.Key && o.Key.length > prefix.length) names.add(o.Key.slice(prefix.length));
      for (const p of out.CommonPrefixes ?? []) if (p.Prefix) names.add(p.Prefix.slice(prefix.length).replace(/\/$/, ''));
      if (!out.IsTruncated || !out.NextContinuationToken) break;
      token = out.NextContinuationToken;
    }
    return [...names].sort();
  }

  async move(from: string, to: string): Promise<number> {
    // S3 has no rename: a server-side copy, then the original goes.
    const puts = await this.copy(from, to);
    await this.delete(from);
    return puts;
  }

  /** A server-side copy: no bytes through us, billed as one PUT. */
  async copy(from: string, to: string): Promise<number> {
    const source = parseS3Location(from);
    const target = this.address(to);
    await this.request('COPY', `${from} to ${to}`, target.bucket, () =>
      this.client.send(new CopyObjectCommand({ Bucket: target.bucket, Key: target.key, CopySource: `${source.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}` })),
    );
    this.counters.puts++;
    return 1;
  }

  async delete(location: string): Promise<void> {
    const { bucket, key } = parseS3Location(location);
    await this.request('DELETE', location, bucket, () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
  }

  /**
   * Every object under the directory. With entropy injection the state files lie under
   * random prefixes in place of the marker: those are found by listing what precedes it.
   */
  async deleteDirectory(directory: string): Promise<void> {
    const { bucket, key } = parseS3Location(directory);
    const marker = this.settings.entropyKey;
    const plain = `${withoutEntropy(key, marker)}/`;
    let listPrefix = plain;
    let matches = (k: string) => k.startsWith(plain);
    if (marker && key.includes(marker)) {
      const before = key.slice(0, key.indexOf(marker));
      const after = `${key.slice(key.indexOf(marker) + marker.length).replace(/^\//, '')}/`;
      listPrefix = before;
      matches = (k: string) => k.startsWith(plain) || new RegExp(`^[a-z0-9]{${this.settings.entropyLength}}/`).test(k.slice(before.length)) && k.slice(before.length + this.settings.entropyLength + 1).startsWith(after);
    }
    const keys: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const out = await this.request('LIST', directory, bucket, () => this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: listPrefix, ContinuationToken: token })));
      for (const o of out.Contents ?? []) if (o.Key && matches(o.Key)) keys.push(o.Key);
      if (!out.IsTruncated || !out.NextContinuationToken) break;
      token = out.NextContinuationToken;
    }
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      await this.request('DELETE', directory, bucket, () => this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } })));
    }
  }

  async deleteIfEmpty(): Promise<void> {
    // An object store has no directories: nothing is left once the objects are gone.
  }

  /** Checks that the bucket answers with these credentials: one clear error otherwise. */
  async probe(location: string): Promise<void> {
    const { bucket, key } = parseS3Location(location);
    await this.request('LIST', location, bucket, () => this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 })), 1);
  }

  close(): void {
    this.client.destroy();
  }

  /** Where metadata and directories are: the entropy marker removed. */
  private address(location: string): S3Address {
    const a = parseS3Location(location);
    return { bucket: a.bucket, key: withoutEntropy(a.key, this.settings.entropyKey) };
  }

  private async multipart(address: S3Address, data: Uint8Array, target: string): Promise<number> {
    const partSize = this.settings.multipartSize;
    await this.request('multipart upload', target, address.bucket, async () => {
      const upload = new Upload({ client: this.client, params: { Bucket: address.bucket, Key: address.key, Body: Buffer.from(data.buffer, data.byteOffset, data.length) }, partSize, queueSize: 2, leavePartsOnError: false });
      await upload.done();
    });
    // CreateMultipartUpload, one UploadPart per part, CompleteMultipartUpload.
    return Math.ceil(data.length / partSize) + 2;
  }

  /** Bounded retries with doubling backoff and jitter; then one clear error. */
  private async request<T>(operation: string, location: string, bucket: string, send: () => Promise<T>, attemptsAllowed = this.settings.retryLimit + 1): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        if (attempt >= attemptsAllowed || !isRetryable(err) || isNotFound(err)) {
          throw describeS3Failure(err, operation, location, bucket, this.endpointName, attempt);
        }
        this.retries++;
        const backoff = Math.min(MAX_BACKOFF_MS, this.settings.retryIntervalMs * 2 ** (attempt - 1));
        await this.sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }
}

/** `s3://bucket/key` parsed and checked, with the entropy marker handled as Flink does. */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '@weir/core';

export interface S3Address {
  bucket: string;
  key: string;
}

// S3's rules for bucket names (3-63 characters, lower case, digits, dots, hyphens).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Location(location: string): S3Address {
  const m = /^s3a?:\/\/([^/]*)(?:\/(.*))?$/i.exec(location);
  if (!m) throw new ConfigError(`"${location}" is not an s3:// location: write s3://bucket/path`);
  const bucket = m[1];
  if (!bucket) throw new ConfigError(`"${location}" names no bucket: write s3://bucket/path`);
  if (!BUCKET.test(bucket)) throw new ConfigError(`"${location}": "${bucket}" is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`);
  const key = (m[2] ?? '').replace(/\/+$/, '');
  if (key.split('/').some((part) => part === '..' || part === '.')) throw new ConfigError(`"${location}": a key must not contain . or .. segments`);
  return { bucket, key };
}

/** `marker/` removed: where metadata and directories are (Flink keeps _metadata out of the entropy). */
export function withoutEntropy(key: string, marker: string | undefined): string {
  if (!marker || !key.includes(marker)) return key;
  return key.split(`${marker}/`).join('').split(`/${marker}`).join('').split(marker).join('');
}

/** The marker replaced by random lower-case letters and digits: where a state file goes. */
export function withEntropy(key: string, marker: string | undefined, length: number): string {
  if (!marker || !key.includes(marker)) return key;
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  const random = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
  return key.split(marker).join(random);
}

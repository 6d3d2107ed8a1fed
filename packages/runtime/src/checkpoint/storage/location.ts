/**
 * Where checkpoint files live, as one string: an absolute filesystem path or an
 * `s3://bucket/key` URI. These helpers join and split both kinds alike, because node's
 * `path` would fold the `//` of a URI.
 */
import path from 'node:path';
import { ConfigError } from '@weir/core';
import { parseS3Location } from './s3-location';

export const S3_SCHEME = 's3://';

export function isObjectStoreLocation(location: string): boolean {
  return /^s3a?:\/\//i.test(location);
}

/**
 * A configured location, checked: a bad s3:// URL is one configuration error naming the key.
 * s3a:// (Hadoop's spelling, which Flink users write) is read as s3://.
 */
export function configuredLocation(key: string, value: string): string {
  const location = normalizeLocation(value);
  if (isObjectStoreLocation(location)) {
    try {
      parseS3Location(location);
    } catch (err) {
      throw new ConfigError(`${key}: ${(err as Error).message}`);
    }
  }
  return location;
}

/** s3a:// (Hadoop's spelling, which Flink users write) is read as s3://. */
export function normalizeLocation(location: string): string {
  if (isObjectStoreLocation(location)) return S3_SCHEME + location.replace(/^s3a?:\/\//i, '').replace(/\/+$/, '');
  return path.resolve(location);
}

export function joinLocation(base: string, ...names: string[]): string {
  if (!isObjectStoreLocation(base)) return path.join(base, ...names);
  const parts = [base.replace(/\/+$/, ''), ...names.map((n) => n.replace(/^\/+|\/+$/g, ''))].filter((p) => p.length > 0);
  return parts.join('/');
}

export function parentLocation(location: string): string {
  if (!isObjectStoreLocation(location)) return path.dirname(location);
  const at = location.lastIndexOf('/');
  return at <= S3_SCHEME.length ? location : location.slice(0, at);
}

export function baseName(location: string): string {
  return isObjectStoreLocation(location) ? location.slice(location.lastIndexOf('/') + 1) : path.basename(location);
}

/** `file` relative to `dir`, with `/` separators, or undefined when it lies outside it. */
export function relativeLocation(dir: string, file: string): string | undefined {
  if (isObjectStoreLocation(dir) !== isObjectStoreLocation(file)) return undefined;
  if (!isObjectStoreLocation(dir)) {
    const rel = path.relative(dir, file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel.split(path.sep).join('/');
  }
  const prefix = `${dir.replace(/\/+$/, '')}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : undefined;
}

/** Resolves a name from `_metadata` against the directory the metadata was read from. */
export function resolveLocation(dir: string, name: string): string {
  if (isObjectStoreLocation(name) || (!isObjectStoreLocation(dir) && path.isAbsolute(name))) return name;
  return joinLocation(dir, name);
}

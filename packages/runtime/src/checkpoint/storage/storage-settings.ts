/**
 * What a process needs to open checkpoint storage, as plain data: it crosses into slot
 * threads. Read from the process's own configuration (its `s3.*` keys), as Flink's file
 * systems are configured per process.
 */
import type { Configuration } from '@weir/core';

export interface S3Settings {
  /** Unset: AWS's own endpoint for the region. */
  endpoint?: string;
  pathStyleAccess: boolean;
  region: string;
  /** Unset: the AWS default chain (environment, profile, container or instance role). */
  accessKey?: string;
  secretKey?: string;
  entropyKey?: string;
  entropyLength: number;
  retryLimit: number;
  retryIntervalMs: number;
  connectionTimeoutMs: number;
  multipartThreshold: number;
  multipartSize: number;
}

export interface StorageSettings {
  s3: S3Settings;
  /** State files up to this many bytes go inline into `_metadata` instead of a file of their own. */
  memoryThreshold: number;
}

export function storageSettingsFrom(config: Configuration): StorageSettings {
  return {
    s3: {
      endpoint: config.getOptionalString('s3.endpoint'),
      pathStyleAccess: config.getString('s3.path.style.access') === 'true',
      region: config.getString('s3.endpoint.region'),
      accessKey: config.getOptionalString('s3.access-key'),
      secretKey: config.getOptionalString('s3.secret-key'),
      entropyKey: config.getOptionalString('s3.entropy.key'),
      entropyLength: config.getNumber('s3.entropy.length'),
      retryLimit: config.getNumber('s3.retry.limit'),
      retryIntervalMs: config.getNumber('s3.retry.interval'),
      connectionTimeoutMs: config.getNumber('s3.connection.timeout'),
      multipartThreshold: config.getNumber('s3.multipart.threshold'),
      multipartSize: config.getNumber('s3.multipart.size'),
    },
    memoryThreshold: config.getNumber('state.storage.fs.memory-threshold'),
  };
}

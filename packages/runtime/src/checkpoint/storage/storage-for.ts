/**
 * Picks the checkpoint storage for a location by its scheme: s3:// (and Hadoop's s3a://)
 * is the object store, anything else a filesystem path. One instance per kind and process
 * (per slot thread), so its connections and counters are shared by all its tasks.
 */
import type { CheckpointStorage } from './checkpoint-storage';
import { FsCheckpointStorage } from './fs-storage';
import { isObjectStoreLocation } from './location';
import { S3CheckpointStorage } from './s3-storage';
import type { StorageSettings } from './storage-settings';

const DEFAULT_SETTINGS: StorageSettings = {
  s3: {
    pathStyleAccess: false, region: 'us-east-1', entropyLength: 4, retryLimit: 7, retryIntervalMs: 500, connectionTimeoutMs: 10_000,
    multipartThreshold: 16 * 1024 * 1024, multipartSize: 8 * 1024 * 1024,
  },
  memoryThreshold: 20 * 1024,
};

let settings: StorageSettings = DEFAULT_SETTINGS;
let fs: FsCheckpointStorage | undefined;
let s3: S3CheckpointStorage | undefined;

/** Called once at process (or slot thread) start with the process's own configuration. */
export function configureCheckpointStorage(next: StorageSettings): void {
  settings = next;
  s3?.close();
  s3 = undefined;
}

export function storageSettings(): StorageSettings {
  return settings;
}

export function storageFor(location: string): CheckpointStorage {
  if (isObjectStoreLocation(location)) return (s3 ??= new S3CheckpointStorage(settings.s3));
  return (fs ??= new FsCheckpointStorage());
}

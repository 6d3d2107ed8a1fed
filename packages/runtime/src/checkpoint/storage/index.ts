/** The checkpoint storage seam: the interface, its two implementations, and locations. */
export type { CheckpointStorage, StorageCounters, WriteResult } from './checkpoint-storage';
export { FsCheckpointStorage, writeFileDurably } from './fs-storage';
export { S3CheckpointStorage } from './s3-storage';
export { parseS3Location } from './s3-location';
export { configureCheckpointStorage, storageFor, storageSettings } from './storage-for';
export { storageSettingsFrom, type S3Settings, type StorageSettings } from './storage-settings';
export { baseName, configuredLocation, isObjectStoreLocation, joinLocation, normalizeLocation, parentLocation, relativeLocation, resolveLocation } from './location';
export { isWithinJobDirectory } from './confinement';

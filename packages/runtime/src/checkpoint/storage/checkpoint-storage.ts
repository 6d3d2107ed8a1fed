/**
 * The checkpoint storage seam: everything Weir keeps for checkpoints and savepoints (task
 * state files, `_metadata`) goes through one of these, chosen by the scheme of the
 * location. A task and the checkpoint coordinator see only this interface.
 */

/** What one storage did, for the PUT and byte counts of a checkpoint. */
export interface StorageCounters {
  puts: number;
  bytes: number;
}

/** Where a file went and the write requests it took (a multipart upload takes several). */
export interface WriteResult {
  location: string;
  puts: number;
}

export interface CheckpointStorage {
  /** `file` or `s3`: for messages and metrics. */
  readonly kind: 'file' | 's3';
  /** Requests and bytes written so far by this storage (all checkpoints). */
  readonly counters: StorageCounters;
  /**
   * Writes one whole state file and returns where it went: an object store may put it
   * elsewhere than asked (entropy injection), and the handle must say the real place.
   */
  write(location: string, data: Uint8Array): Promise<WriteResult>;
  /**
   * Writes `_metadata`, the commit point of a checkpoint: a reader sees no file or the
   * whole one (temp file, fsync and rename on a filesystem; one PUT on an object store).
   * `beforeCommit` runs when the data is durable but not yet visible (a fault point).
   */
  commit(location: string, data: Uint8Array | string, beforeCommit?: () => Promise<void> | undefined): Promise<void>;
  read(location: string): Promise<Buffer>;
  /** `length` bytes from `offset`: one task's state in a merged file. */
  readRange(location: string, offset: number, length: number): Promise<Buffer>;
  /** Whether the file exists; undefined errors (unreachable store) are thrown. */
  exists(location: string): Promise<boolean>;
  /** Names (not locations) directly under a directory; none when it does not exist. */
  list(directory: string): Promise<string[]>;
  /**
   * Moves a file to another location of the same storage (a savepoint takes its files out
   * of the checkpoint directory): a rename on a filesystem, copy then delete on S3.
   * Returns the write requests it took (a server-side COPY is billed as a PUT; a rename is none).
   */
  move(from: string, to: string): Promise<number>;
  /**
   * Copies a file to another location of the same storage, keeping the original (a file of
   * an incremental checkpoint's chain that a savepoint takes, which later checkpoints still
   * read). Returns the write requests it took.
   */
  copy(from: string, to: string): Promise<number>;
  /** Removes one file; a missing one is no error. */
  delete(location: string): Promise<void>;
  /** Removes a directory and everything under it; a missing one is no error. */
  deleteDirectory(directory: string): Promise<void>;
  /** Removes a directory when it is empty (object stores have no empty directories). */
  deleteIfEmpty(directory: string): Promise<void>;
}

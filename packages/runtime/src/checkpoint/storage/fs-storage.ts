/** Checkpoint storage on a filesystem every process sees (one machine, or a shared mount). */
import { copyFile, mkdir, open, readFile, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointStorage, StorageCounters, WriteResult } from './checkpoint-storage';

export class FsCheckpointStorage implements CheckpointStorage {
  readonly kind = 'file' as const;
  readonly counters: StorageCounters = { puts: 0, bytes: 0 };

  async write(location: string, data: Uint8Array): Promise<WriteResult> {
    await mkdir(path.dirname(location), { recursive: true });
    await writeFileDurably(location, data);
    this.count(data);
    return { location, puts: 1 };
  }

  async commit(location: string, data: Uint8Array | string, beforeCommit?: () => Promise<void> | undefined): Promise<void> {
    await mkdir(path.dirname(location), { recursive: true });
    await writeFileDurably(location, data, beforeCommit);
    this.count(data);
  }

  read(location: string): Promise<Buffer> {
    return readFile(location);
  }

  async readRange(location: string, offset: number, length: number): Promise<Buffer> {
    const file = await open(location, 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, offset);
      // A short read (a truncated file) shows as a size mismatch to the caller.
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  async exists(location: string): Promise<boolean> {
    try {
      await stat(location);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async list(directory: string): Promise<string[]> {
    try {
      return await readdir(directory);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async move(from: string, to: string): Promise<number> {
    await mkdir(path.dirname(to), { recursive: true });
    try {
      await rename(from, to);
      return 0;
    } catch (err) {
      // Across filesystems (EXDEV) a rename cannot work: copy, then remove the original.
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(from, to);
      await unlink(from);
      return 1;
    }
  }

  async copy(from: string, to: string): Promise<number> {
    await mkdir(path.dirname(to), { recursive: true });
    await copyFile(from, to);
    return 1;
  }

  async delete(location: string): Promise<void> {
    await rm(location, { force: true });
  }

  async deleteDirectory(directory: string): Promise<void> {
    await rm(directory, { recursive: true, force: true });
  }

  async deleteIfEmpty(directory: string): Promise<void> {
    await rmdir(directory).catch(() => {});
  }

  private count(data: Uint8Array | string): void {
    this.counters.puts++;
    this.counters.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }
}

/**
 * temp file, fsync, rename: a reader sees the old file or the whole new one. A failed write
 * (a full disk) removes its temp file: nothing is left behind. `beforeRename` lets the
 * caller pass a fault point between the synced temp file and the rename.
 */
export async function writeFileDurably(file: string, data: Uint8Array | string, beforeRename?: () => Promise<void> | undefined): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await beforeRename?.();
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Local recovery: a TaskManager keeps a copy of every state file its tasks write, named
 * by its checksum, so that a task it runs again restores from its own disk. A copy is
 * used only when its checksum matches the handle; otherwise the storage copy is read.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StateHandle } from '@weir/core';
import { sha256 } from './storage';

export class LocalStateCopies {
  /** Checksums of the copies this task wrote or restored from. */
  private readonly mine = new Set<string>();
  /** Restores served locally, and local copies refused for a wrong checksum. */
  readonly stats = { read: 0, rejected: 0 };

  constructor(private readonly dir: string) {}

  private file(checksum: string): string {
    return path.join(this.dir, `${checksum}.state`);
  }

  /**
   * Keeps the bytes of a state file just stored (off the task's thread). Best effort: a
   * failed local copy only means the next restore reads the storage. Inline state needs none.
   */
  async keep(handle: StateHandle, data: Uint8Array): Promise<void> {
    if (!handle.path) return;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(this.file(handle.checksum), data);
      this.mine.add(handle.checksum);
    } catch {
      // not kept
    }
  }

  /** The local bytes of a handle, when present and intact. */
  async read(handle: StateHandle): Promise<Buffer | undefined> {
    let data: Buffer;
    try {
      data = await readFile(this.file(handle.checksum));
    } catch {
      return undefined;
    }
    if (data.length !== handle.size || sha256(data) !== handle.checksum) {
      this.stats.rejected++;
      await rm(this.file(handle.checksum), { force: true }).catch(() => {});
      return undefined;
    }
    this.stats.read++;
    this.mine.add(handle.checksum);
    return data;
  }

  /** After a checkpoint completed: copies it does not reference are not needed again. */
  async retainOnly(handles: StateHandle[]): Promise<void> {
    const keep = new Set(handles.map((h) => h.checksum));
    for (const checksum of [...this.mine]) {
      if (keep.has(checksum)) continue;
      this.mine.delete(checksum);
      await rm(this.file(checksum), { force: true }).catch(() => {});
    }
  }
}

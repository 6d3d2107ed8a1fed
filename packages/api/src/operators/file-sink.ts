import { existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, appendFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { faultPoint, StateError } from '@weir/core';
import type { OperatorContext, StreamOperator } from '../operator';
import type { ListState } from '../state';
import { formatRecord } from './format';

interface PendingFile { checkpointId: number; pending: string; final: string }

/** The old subtask that wrote a hidden (pending or in-progress) file, from its name. */
function writerOf(hiddenName: string): number | undefined {
  const m = /^\.part-(\d+)-/.exec(hiddenName);
  return m ? Number(m[1]) : undefined;
}

/**
 * Makes a pending file visible under its final name without ever replacing a file:
 * link() fails when the name is taken, where rename() would silently overwrite committed
 * output. Committing again is a no-op (the pending file is gone and the final one is
 * there); a crash between link and unlink leaves two names of one inode, which is ours.
 */
function publish(from: string, to: string, checkpointId: number): void {
  try {
    linkSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (existsSync(to)) return; // committed before
      throw new StateError(`file sink: pending file ${from} of checkpoint ${checkpointId} is missing`);
    }
    if (code !== 'EEXIST') throw err;
    if (statSync(to).ino !== statSync(from).ino) {
      throw new StateError(`file sink: ${to} already exists and was not written by checkpoint ${checkpointId}; refusing to replace committed output`);
    }
  }
  unlinkSync(from);
}

/**
 * Exactly-once file sink (two-phase commit, as Flink's FileSink): records go to a hidden
 * in-progress file; a checkpoint barrier turns it into a pending file recorded in state;
 * the checkpoint's completion gives it its visible name. A restore commits the pending
 * files its checkpoint recorded (committing twice is a no-op) and discards the rest.
 *
 * Rescaling: the files of old subtask j belong to new subtask j mod parallelism, which
 * commits their pending files and deletes their in-progress ones; no two new subtasks
 * touch the same old subtask's files, so nothing is committed twice or lost.
 */
export function exactlyOnceFileSinkOperator<T>(directory: string): StreamOperator<T, never> {
  let ctx: OperatorContext;
  let state: ListState<PendingFile>;
  let pending: PendingFile[] = [];
  let buffer: string[] = [];
  let inProgress: string | undefined;
  let part = 0;
  const hiddenPrefix = () => `.part-${ctx.subtask}-`;

  const flushBuffer = () => {
    if (buffer.length === 0) return;
    inProgress ??= path.join(directory, `${hiddenPrefix()}${ctx.attempt}-${part++}.inprogress`);
    appendFileSync(inProgress, buffer.join('\n') + '\n');
    buffer = [];
  };

  const commit = (upTo: number) => {
    const remaining: PendingFile[] = [];
    let committed = 0;
    for (const file of pending) {
      if (file.checkpointId > upTo) {
        remaining.push(file);
        continue;
      }
      publish(path.join(directory, file.pending), path.join(directory, file.final), file.checkpointId);
      committed++;
    }
    pending = remaining;
    if (committed > 0) faultPoint('tm.sink.committed');
  };

  /** Turns the in-progress file into a pending one that the given checkpoint covers. */
  const seal = (checkpointId: number, finalName: string) => {
    flushBuffer();
    if (!inProgress) return;
    const pendingName = `${hiddenPrefix()}${ctx.attempt}-${checkpointId}.pending`;
    renameSync(inProgress, path.join(directory, pendingName));
    pending.push({ checkpointId, pending: pendingName, final: finalName });
    inProgress = undefined;
  };

  return {
    open(context) {
      ctx = context;
      mkdirSync(directory, { recursive: true });
      state = ctx.getUnionListState<PendingFile>('file-sink-pending');
      const mine = (name: string) => {
        const writer = writerOf(name);
        return writer !== undefined && writer % ctx.parallelism === ctx.subtask;
      };
      if (ctx.isRestored) {
        pending = state.get().filter((f) => mine(f.pending));
        commit(Number.MAX_SAFE_INTEGER);
      }
      // Whatever hidden file of the old subtasks this one took over is left belongs to an
      // attempt that failed, or was written after the checkpoint restored from.
      for (const name of readdirSync(directory)) {
        if (mine(name)) rmSync(path.join(directory, name), { force: true });
      }
    },
    processElement(value) {
      buffer.push(formatRecord(value));
      if (buffer.length >= 4096) flushBuffer();
    },
    snapshotState(checkpointId) {
      seal(checkpointId, `part-${ctx.subtask}-${checkpointId}`);
      state.update(pending.map((f) => ({ ...f })));
    },
    notifyCheckpointComplete(checkpointId) {
      commit(checkpointId);
    },
    finish() {
      // Without checkpointing nothing would ever commit: the end of input commits all.
      if (ctx.config['execution.checkpointing.interval'] === undefined) {
        seal(Number.MAX_SAFE_INTEGER, `part-${ctx.subtask}-end-${ctx.attempt}`);
        commit(Number.MAX_SAFE_INTEGER);
      }
    },
  };
}

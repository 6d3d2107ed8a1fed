import type { StateHandle } from '@weir/core';
import type { ChangeSet } from '../state/change-set';

interface PendingLink {
  mode: 'full' | 'delta';
  changes?: ChangeSet;
  /** The files this checkpoint wrote (a full one may be in parts), once written. */
  own?: StateHandle[];
  /** The chain it acknowledged: the files a restore of it reads, in order. */
  chain?: StateHandle[];
  failed?: boolean;
  /** Checkpoints pending when this one was captured: its delta assumes they complete or hand their changes on. */
  before: number[];
}

/**
 * One task's chain of keyed state files for incremental checkpoints: a full
 * materialisation followed by deltas. A checkpoint's chain is the chain of the last
 * completed one plus what was written since; the next checkpoint materialises again once
 * the chain is `maxLength` deltas long, so a restore reads a bounded number of files.
 * Deltas are relative to the previous capture, so an aborted checkpoint's changes are
 * handed back to the backend to go into the next delta.
 */
export class ChangelogChain {
  private completed: StateHandle[] = [];
  /** Aborted while later captures were pending: those deltas lack the aborted one's changes. */
  private readonly aborted = new Set<number>();
  private readonly pending = new Map<number, PendingLink>();

  constructor(private readonly maxLength: number) {}

  /** Full when there is nothing to build on, when the chain is long, or when the backend lost track. */
  nextMode(backendNeedsFull: boolean): 'full' | 'delta' {
    if (backendNeedsFull || this.completed.length === 0 || this.completed.length > this.maxLength) return 'full';
    for (const link of this.pending.values()) if (link.failed) return 'full';
    return 'delta';
  }

  captured(checkpointId: number, mode: 'full' | 'delta', changes?: ChangeSet): void {
    this.pending.set(checkpointId, { mode, changes, before: [...this.pending.keys()].filter((id) => id < checkpointId) });
  }

  /**
   * The files to acknowledge for a checkpoint whose own file is written. Writes happen in
   * checkpoint order, so every earlier pending delta is already written.
   */
  written(checkpointId: number, own: StateHandle | StateHandle[]): StateHandle[] {
    const link = this.pending.get(checkpointId);
    if (!link) throw new Error(`checkpoint ${checkpointId} was not captured`);
    const files = Array.isArray(own) ? own : [own];
    link.own = files;
    if (link.mode === 'full') return (link.chain = [...files]);
    for (const id of link.before) {
      if (this.aborted.has(id)) throw new Error(`checkpoint ${id}, which this delta builds on, was aborted`);
    }
    const between = [...this.pending].filter(([id]) => id < checkpointId).sort((a, b) => a[0] - b[0]);
    const chain = [...this.completed];
    for (const [, p] of between) {
      if (!p.own || p.failed) throw new Error(`an earlier checkpoint of this chain was not written`);
      if (p.mode === 'full') chain.length = 0;
      chain.push(...p.own);
    }
    chain.push(...files);
    return (link.chain = chain);
  }

  /** Writing failed: the changes go back, and the next checkpoint starts a new chain. */
  failed(checkpointId: number): ChangeSet | undefined {
    const link = this.pending.get(checkpointId);
    if (!link) return undefined;
    link.failed = true;
    return link.changes;
  }

  onCompleted(checkpointId: number): void {
    const link = this.pending.get(checkpointId);
    if (link?.chain) this.completed = link.chain;
    for (const id of this.aborted) if (id <= checkpointId) this.aborted.delete(id);
    for (const id of [...this.pending.keys()]) if (id <= checkpointId) this.pending.delete(id);
  }

  /**
   * An aborted checkpoint: returns its changes (for the next delta) and its own file when
   * no later checkpoint builds on it (to be removed at once).
   */
  onAborted(checkpointId: number): { changes?: ChangeSet; discard?: StateHandle[] } {
    const link = this.pending.get(checkpointId);
    if (!link) return {};
    this.pending.delete(checkpointId);
    if ([...this.pending.values()].some((p) => p.before.includes(checkpointId))) this.aborted.add(checkpointId);
    const usedLater = [...this.pending.values()].some((p) => link.own?.some((f) => p.chain?.includes(f)));
    return { changes: usedLater ? undefined : link.changes, discard: usedLater ? undefined : link.own };
  }

  /** The files of the latest completed checkpoint (what local copies are kept for). */
  latest(): StateHandle[] {
    return this.completed;
  }
}

import { mkdirSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { open, type Database, type RootDatabase } from 'lmdb';
import { NO_TYPES, StateError, type KeyGroupRange, type TypeRegistry } from '@weir/core';
import { CurrentKey } from './current-key';
import type { StateDescriptor } from '@weir/api';
import { ChangeSet } from './change-set';
import { fromCanonical, toCanonical } from './heap-backend';
import { ChunkBuilder, mergeChunks, type KeyedCapture, type KeyedSnapshot, type KeyedStateBackend, type TableKey } from './keyed-backend';
import { stateFacade, type StateCell } from './state-kinds';
import { yieldToEventLoop } from '../signal';

/** How values become bytes: the job's serializer, so registered classes survive a restore. */
export interface StateValueCodec {
  encode(value: unknown): Buffer;
  decode(data: Uint8Array): unknown;
}

const DELETED = Symbol('deleted');
/** Writes held in memory before they go to the store in one transaction. */
const WRITE_BUFFER = 20_000;
/** Buffers set aside by captures before they go to the store, however few writes they hold: a read looks through each. */
const MAX_FROZEN = 8;
/** Reading a capture gives the event loop a turn after this long. */
const SLICE_MS = 3;

/** state -> key group -> key -> encoded canonical value | DELETED. Encoded at write, as RocksDB does: a value the job changes afterwards in place is not written. */
type Pending = Map<string, Map<number, Map<TableKey, Buffer | typeof DELETED>>>;

/**
 * Keyed state in an embedded LMDB store on the TaskManager's disk, for state larger than
 * memory: one entry per (state, key group, key), ordered so that a key group is one range.
 * Writes gather in a small buffer and go to the store in one transaction. A capture
 * only sets the buffer aside (it is written with the next flush) and opens a read
 * transaction, which LMDB keeps as a consistent view (MVCC) while records go on being
 * written: the snapshot is that view plus the buffers set aside, read off the record path.
 */
/** One state's buffered entries in a key-group range, the newest layer winning. */
function overlayOf(layers: Pending[], name: string, range: KeyGroupRange): Map<number, Map<TableKey, Buffer | typeof DELETED>> {
  const merged = new Map<number, Map<TableKey, Buffer | typeof DELETED>>();
  for (const layer of layers) {
    for (const [kg, keys] of layer.get(name) ?? []) {
      if (kg < range.start || kg > range.end) continue;
      let into = merged.get(kg);
      if (!into) merged.set(kg, (into = new Map()));
      for (const [k, v] of keys) into.set(k, v);
    }
  }
  return merged;
}

export class LmdbKeyedStateBackend implements KeyedStateBackend {
  private readonly env: RootDatabase;
  private readonly db: Database<Buffer, (string | number)[]>;
  private readonly kinds = new Map<string, string>();
  private pending: Pending = new Map();
  private pendingCount = 0;
  /** Buffers set aside by captures, oldest first: not in the store yet, read before it. */
  private frozen: Pending[] = [];
  private frozenCount = 0;
  private changes?: ChangeSet;
  private sinceFull = false;
  private openReads = 0;
  private closed = false;

  private readonly current: CurrentKey;

  constructor(
    readonly range: KeyGroupRange,
    private readonly maxParallelism: number,
    private readonly dir: string,
    private readonly codec: StateValueCodec,
    private readonly types: TypeRegistry = NO_TYPES,
    options: { trackChanges?: boolean } = {},
  ) {
    this.current = new CurrentKey(maxParallelism, types);
    // The directory is scratch: a task starts empty and restores from its checkpoint.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      this.env = open({ path: dir, noSync: true, noMetaSync: true, compression: false, cache: false, mapSize: 2 ** 40 });
      this.db = this.env.openDB<Buffer, (string | number)[]>({ name: 'keyed', encoding: 'binary' });
    } catch (err) {
      throw new StateError(`the lmdb state backend cannot open its store in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    if (options.trackChanges) this.changes = new ChangeSet();
  }

  /** Throws a ContractViolation for a key that cannot be a key (null, undefined, a function...). */
  setCurrentKey(key: unknown, keyGroup?: number): void {
    this.current.set(key, keyGroup);
  }

  currentKey(): unknown {
    return this.current.value;
  }

  private register(name: string, kind: string): void {
    const known = this.kinds.get(name);
    if (known === undefined) this.kinds.set(name, kind);
    else if (known !== kind) throw new StateError(`state "${name}" is a ${known} state, not a ${kind} state`);
  }

  private readStored(name: string, kg: number, key: TableKey): unknown {
    let buffered = this.pending.get(name)?.get(kg)?.get(key);
    for (let i = this.frozen.length - 1; buffered === undefined && i >= 0; i--) buffered = this.frozen[i]?.get(name)?.get(kg)?.get(key);
    if (buffered === DELETED) return undefined;
    const bytes = buffered ?? this.db.get([name, kg, key]);
    return bytes === undefined ? undefined : fromCanonical(this.kinds.get(name) ?? 'value', this.codec.decode(bytes));
  }

  private buffer(name: string, kg: number, key: TableKey, value: Buffer | typeof DELETED): void {
    let groups = this.pending.get(name);
    if (!groups) this.pending.set(name, (groups = new Map()));
    let keys = groups.get(kg);
    if (!keys) groups.set(kg, (keys = new Map()));
    if (!keys.has(key)) this.pendingCount++;
    keys.set(key, value);
    this.changes?.mark(name, kg, key);
    if (this.pendingCount >= WRITE_BUFFER) this.flush();
  }

  /** Buffered writes (those set aside first) go to the store in one transaction. */
  private flush(): void {
    if (this.pendingCount === 0 && this.frozen.length === 0) return;
    const layers = [...this.frozen, this.pending];
    this.frozen = [];
    this.frozenCount = 0;
    this.pending = new Map();
    this.pendingCount = 0;
    this.write(layers);
  }

  /**
   * The buffers set aside by captures go to the store once they hold a write buffer's worth
   * (or there are MAX_FROZEN of them): before, they went only when the live buffer filled
   * within one interval, so a job changing fewer keys per interval kept one more per
   * checkpoint for ever. A capture keeps its own reference to them (and its transaction
   * predates this write), so it reads what it captured.
   */
  private flushFrozen(): void {
    // As many writes at once as the write buffer holds: one transaction's cost, not one per checkpoint.
    if (this.closed || (this.frozenCount < WRITE_BUFFER && this.frozen.length < MAX_FROZEN)) return;
    const layers = this.frozen;
    this.frozen = [];
    this.frozenCount = 0;
    this.write(layers);
  }

  private write(layers: Pending[]): void {
    this.db.transactionSync(() => {
      for (const [name, groups] of layers.flatMap((l) => [...l])) {
        const kind = this.kinds.get(name) ?? 'value';
        for (const [kg, keys] of groups) {
          for (const [key, value] of keys) {
            if (value === DELETED) this.db.removeSync([name, kg, key]);
            else this.db.putSync([name, kg, key], value);
          }
        }
      }
    });
  }

  private cell(name: string): StateCell {
    return {
      read: () => this.readStored(name, this.current.group, this.current.tableKey),
      write: (value) => this.buffer(name, this.current.group, this.current.tableKey, this.codec.encode(toCanonical(this.kinds.get(name) ?? 'value', value))),
      remove: () => this.buffer(name, this.current.group, this.current.tableKey, DELETED),
    };
  }

  getState<S>(descriptor: StateDescriptor<S>, namespace: string): S {
    const name = `${namespace}/${descriptor.name}`;
    this.register(name, descriptor.kind);
    return stateFacade(descriptor, this.cell(name), { types: this.types, stateName: descriptor.name, namespace });
  }

  needsFullCapture(): boolean {
    return !this.changes || this.changes.overflowed || !this.sinceFull;
  }

  capture(mode: 'full' | 'delta'): KeyedCapture {
    // What the store's view lacks: every buffer not flushed yet, newest last.
    if (this.pendingCount > 0) {
      this.frozen.push(this.pending);
      this.frozenCount += this.pendingCount;
      this.pending = new Map();
      this.pendingCount = 0;
    }
    const overlay = [...this.frozen];
    const txn = this.env.useReadTransaction();
    this.openReads++;
    const kinds = [...this.kinds];
    const changes = this.changes;
    if (this.changes) this.changes = new ChangeSet();
    if (mode === 'full') this.sinceFull = true;
    const range = this.range;
    const db = this.db;
    const codec = this.codec;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      txn.done();
      this.openReads--;
    };
    const flushFrozen = () => this.flushFrozen();
    async function* chunks(maxEntries = Infinity): AsyncGenerator<KeyedSnapshot> {
      try {
        // After the barrier, not in the synchronous phase.
        flushFrozen();
        const parts = new ChunkBuilder(range, mode, maxEntries);
        let n = 0;
        let turn = performance.now();
        // The event loop gets a turn every few milliseconds, so that records keep flowing.
        const turnDue = () => ++n % 256 === 0 && performance.now() - turn >= SLICE_MS;
        const giveTurn = async () => {
          await yieldToEventLoop();
          turn = performance.now();
        };
        for (const [name, kind] of kinds) {
          if (mode === 'full') {
            const buffered = overlayOf(overlay, name, range);
            // Groups come in key order from the store; a group is complete when the next starts.
            let kg = -1;
            let entries: [TableKey, unknown][] = [];
            const close = (): KeyedSnapshot | undefined => {
              if (kg < 0) return undefined;
              for (const [k, v] of buffered.get(kg) ?? []) if (v !== DELETED) entries.push([k, codec.decode(v)]);
              buffered.delete(kg);
              const part = parts.add(name, kind, kg, entries, []);
              entries = [];
              return part;
            };
            for (const { key, value } of db.getRange({ start: [name, range.start], end: [name, range.end + 1], transaction: txn })) {
              const group = key[1] as number;
              if (group !== kg) {
                const part = close();
                if (part) yield part;
                kg = group;
              }
              const k = key[2] as TableKey;
              if (!buffered.get(kg)?.has(k)) entries.push([k, codec.decode(value)]);
              if (turnDue()) await giveTurn();
            }
            const last = close();
            if (last) yield last;
            // Groups written since the last flush only.
            for (const [group, keys] of buffered) {
              const fresh: [TableKey, unknown][] = [];
              for (const [k, v] of keys) if (v !== DELETED) fresh.push([k, codec.decode(v)]);
              const part = parts.add(name, kind, group, fresh, []);
              if (part) yield part;
            }
          } else {
            for (const [kg, keys] of changes?.states.get(name) ?? []) {
              const entries: [TableKey, unknown][] = [];
              const removed: TableKey[] = [];
              for (const k of keys) {
                let buffered: Buffer | typeof DELETED | undefined;
                for (let i = overlay.length - 1; buffered === undefined && i >= 0; i--) buffered = overlay[i]?.get(name)?.get(kg)?.get(k);
                if (buffered === DELETED) {
                  removed.push(k);
                } else if (buffered !== undefined) {
                  entries.push([k, codec.decode(buffered)]);
                } else {
                  const bytes = db.get([name, kg, k], { transaction: txn } as never) as Buffer | undefined;
                  if (bytes === undefined) removed.push(k);
                  else entries.push([k, codec.decode(bytes)]);
                }
              }
              const part = parts.add(name, kind, kg, entries, removed);
              if (part) yield part;
              n += keys.size;
              if (performance.now() - turn >= SLICE_MS) await giveTurn();
            }
          }
        }
        yield* parts.rest();
      } finally {
        release();
      }
    }
    return {
      mode,
      changes,
      chunks,
      read: () => mergeChunks(range, mode, chunks()),
    };
  }

  requeue(changes: ChangeSet): void {
    this.changes?.addAll(changes);
  }

  async restore(snapshots: KeyedSnapshot[]): Promise<void> {
    for (const snap of snapshots) {
      for (const [name, { kind, groups, removed }] of Object.entries(snap.states)) {
        this.register(name, kind);
        const mine = groups.filter(([kg]) => kg >= this.range.start && kg <= this.range.end);
        if (!snap.delta) {
          // A full snapshot replaces what its key groups held before.
          for (const [kg] of mine) await this.env.transactionSync(() => {
            for (const { key } of this.db.getRange({ start: [name, kg], end: [name, kg + 1] })) this.db.removeSync(key);
          });
        }
        let batch: [number, TableKey, unknown][] = [];
        const write = () => {
          const items = batch;
          batch = [];
          this.db.transactionSync(() => {
            for (const [kg, k, v] of items) this.db.putSync([name, kg, k], this.codec.encode(v));
          });
        };
        for (const [kg, entries] of mine) {
          for (const [k, v] of entries) {
            batch.push([kg, k, v]);
            if (batch.length >= 50_000) {
              write();
              await yieldToEventLoop();
            }
          }
        }
        if (batch.length) write();
        for (const [kg, keys] of removed ?? []) {
          if (kg < this.range.start || kg > this.range.end) continue;
          this.db.transactionSync(() => {
            for (const k of keys) this.db.removeSync([name, kg, k]);
          });
        }
      }
    }
  }

  keyCount(): number {
    this.flush();
    return this.db.getCount();
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

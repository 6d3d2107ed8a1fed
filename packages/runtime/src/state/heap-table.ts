import type { TableKey } from './keyed-backend';

/** Keys of one key group and their values. */
export type Group = Map<TableKey, unknown>;

const PAGE_BITS = 12;
/** Slots per page of the dense region. */
export const PAGE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE - 1;
/** A page slot whose key was never written: its group is not known. */
const NO_GROUP = 0xffff;
/** The dense region never grows past this key (64M slots, 384 MB per state at most). */
const MAX_REGION = 1 << 26;
/**
 * The dense region holds at most this many slots per key of the job's whole key space,
 * so sparse keys stay in the maps. A subtask holds 1/parallelism of a job's keys, so its
 * share of the region's slots is that much smaller: the bound is scaled by the share.
 */
const SLOTS_PER_KEY = 4;

/** One page of the dense region: values by key, and the key group of every key ever written there. */
export interface Page {
  values: unknown[];
  groups: Uint16Array;
}

/**
 * One state's table: key group -> key -> value, with small non-negative integer keys
 * held apart in a dense region indexed by the key itself. A job keyed by ids reads its
 * state by array index there: at 1M keys a Map lookup misses the cache two or three
 * times (bucket, then entry), and a key's slot sits next to the previous key's when keys
 * arrive in order (docs/benchmarks.md, "The record path, third pass"). The region grows
 * by doubling while it holds at most SLOTS_PER_KEY slots per key, taking the integer keys
 * it now covers out of the maps, so memory stays within a small factor of the keys held.
 * Every other key lives in per-group maps. Values are never undefined: a state removes a
 * key rather than store undefined or null, so an undefined slot is an absent key.
 */
export class HeapTable {
  /** Keys 0 <= k < region are dense. A power of two, at least one page. */
  region = PAGE;
  readonly pages: (Page | undefined)[] = [];
  /** Keys in the dense region, per key group: a full restore clears a group only where it has some. */
  private readonly denseInGroup: number[] = [];
  private denseKeys = 0;
  /** The other keys, indexed by key group (an array index, not a hash). */
  readonly groups: (Group | undefined)[] = [];
  private mapKeys = 0;

  private readonly slotsPerKey: number;

  /** `share`: the fraction of the job's key groups this table's subtask holds. */
  constructor(readonly kind: string, share = 1) {
    this.slotsPerKey = SLOTS_PER_KEY / share;
  }

  get size(): number {
    return this.denseKeys + this.mapKeys;
  }

  /** Whether `k` lives in the dense region (a non-negative integer below `region`). */
  isDense(k: TableKey): k is number {
    return typeof k === 'number' && k < this.region && k >= 0 && (k | 0) === k;
  }

  get(kg: number, k: TableKey): unknown {
    if (this.isDense(k)) {
      const page = this.pages[k >>> PAGE_BITS];
      return page === undefined ? undefined : page.values[k & PAGE_MASK];
    }
    return this.groups[kg]?.get(k);
  }

  /** `mayGrow`: false while a capture is being read, which reads the dense region and the maps as they were laid out. */
  set(kg: number, k: TableKey, value: unknown, mayGrow: boolean): void {
    if (this.isDense(k)) {
      const slot = k & PAGE_MASK;
      const page = this.pages[k >>> PAGE_BITS] ?? this.addPage(k >>> PAGE_BITS);
      if (page.values[slot] === undefined) {
        this.countDense(kg, 1);
        page.groups[slot] = kg;
      }
      page.values[slot] = value;
      return;
    }
    if (mayGrow && typeof k === 'number' && this.grow(k)) {
      this.set(kg, k, value, false);
      return;
    }
    let group = this.groups[kg];
    if (group === undefined) this.groups[kg] = group = new Map();
    const before = group.size;
    group.set(k, value);
    this.mapKeys += group.size - before;
  }

  /** Returns whether the key was there. */
  delete(kg: number, k: TableKey): boolean {
    if (this.isDense(k)) {
      const page = this.pages[k >>> PAGE_BITS];
      const slot = k & PAGE_MASK;
      if (page === undefined || page.values[slot] === undefined) return false;
      page.values[slot] = undefined;
      this.countDense(page.groups[slot], -1);
      return true;
    }
    const deleted = this.groups[kg]?.delete(k) ?? false;
    if (deleted) this.mapKeys--;
    return deleted;
  }

  /** Removes every key of a key group (a full snapshot replaces its groups). */
  clearGroup(kg: number): void {
    const group = this.groups[kg];
    if (group) {
      this.mapKeys -= group.size;
      this.groups[kg] = undefined;
    }
    const dense = this.denseInGroup[kg];
    if (!dense) return;
    for (const page of this.pages) {
      if (!page) continue;
      for (let slot = 0; slot < PAGE; slot++) {
        if (page.groups[slot] === kg && page.values[slot] !== undefined) page.values[slot] = undefined;
      }
    }
    this.denseKeys -= dense;
    this.denseInGroup[kg] = 0;
  }

  /** Keys in the dense region. */
  get denseSize(): number {
    return this.denseKeys;
  }

  private addPage(index: number): Page {
    const page: Page = { values: new Array<unknown>(PAGE).fill(undefined), groups: new Uint16Array(PAGE).fill(NO_GROUP) };
    this.pages[index] = page;
    return page;
  }

  private countDense(kg: number, delta: number): void {
    this.denseKeys += delta;
    this.denseInGroup[kg] = (this.denseInGroup[kg] ?? 0) + delta;
  }

  /** Grows the region to cover integer key `k` if it stays dense enough; moves the keys it now covers out of the maps. */
  private grow(k: number): boolean {
    if (!(k >= this.region && k < MAX_REGION && (k | 0) === k)) return false;
    let region = this.region;
    while (region <= k) region *= 2;
    if (region > this.slotsPerKey * (this.size + 1)) return false;
    const from = this.region;
    this.region = region;
    for (let kg = 0; kg < this.groups.length; kg++) {
      const group = this.groups[kg];
      if (group === undefined) continue;
      for (const [key, value] of group) {
        if (typeof key !== 'number' || key < from || key >= region || (key | 0) !== key) continue;
        group.delete(key);
        this.mapKeys--;
        this.set(kg, key, value, false);
      }
    }
    return true;
  }
}

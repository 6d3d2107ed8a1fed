import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointIdCounter } from './checkpoint-id-counter';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'weir-counter-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('checkpoint id counter', () => {
  it('hands out growing ids and records a bound before the first one goes out', () => {
    const file = path.join(dir, 'counter.json');
    const counter = new CheckpointIdCounter(file);
    expect(counter.take()).toBe(1);
    expect(JSON.parse(readFileSync(file, 'utf8')).reservedThrough).toBeGreaterThanOrEqual(1);
    expect(counter.take()).toBe(2);
    expect(counter.peekLast()).toBe(2);
  });

  it('a restarted JobManager never hands out an id that may have been used, even one never recorded elsewhere (finding 1)', () => {
    const file = path.join(dir, 'counter.json');
    const before = new CheckpointIdCounter(file);
    const used = Array.from({ length: 250 }, () => before.take());
    // The process dies here: no statistics, no _metadata for the last ids.
    const after = new CheckpointIdCounter(file);
    const next = after.take();
    expect(next).toBeGreaterThan(Math.max(...used));
  });

  it('goes above ids found on disk, and never backwards', () => {
    const counter = new CheckpointIdCounter(undefined);
    counter.atLeast(42);
    expect(counter.take()).toBe(42);
    counter.atLeast(10);
    expect(counter.take()).toBe(43);
  });
});

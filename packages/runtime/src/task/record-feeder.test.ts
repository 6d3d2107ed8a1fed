import { afterEach, describe, expect, it, vi } from 'vitest';
import { InputGate } from '../network/input-gate';
import { RecordFeeder, YIELD_INTERVAL_MS } from './record-feeder';

describe('RecordFeeder (time slices, fake clock)', () => {
  afterEach(() => void vi.useRealTimers());

  it('stops a slow batch when the slice is used up, keeps the rest for an unaligned checkpoint, returns the credit once at the end', () => {
    vi.useFakeTimers({ now: 0 });
    const seen: number[] = [];
    // every record takes 1 ms: a slice holds YIELD_INTERVAL_MS of them (the first slice reads the clock after each record)
    const feeder = new RecordFeeder((r) => {
      seen.push(r as number);
      vi.advanceTimersByTime(1);
    }, (records) => Buffer.from(JSON.stringify(records)));
    const channel = new InputGate().addChannel('c0');
    let credits = 0;
    channel.returnCredit = (n) => void (credits += n);
    feeder.take(channel, Array.from({ length: 100 }, (_, i) => i));
    expect(feeder.run()).toBe(false);
    expect(seen.length).toBe(YIELD_INTERVAL_MS);
    expect(credits).toBe(0);
    expect(JSON.parse((feeder.unprocessed() as Buffer).toString())).toEqual(Array.from({ length: 90 }, (_, i) => i + 10));
    while (!feeder.run()) vi.setSystemTime(0); // a new slice each turn
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(credits).toBe(1);
    expect(feeder.unprocessed()).toBeUndefined();
  });

  it('replays restored records before anything new and counts them as unprocessed until done', () => {
    vi.useFakeTimers({ now: 0 });
    const seen: unknown[] = [];
    const feeder = new RecordFeeder((r) => void seen.push(r), (records) => Buffer.from(JSON.stringify(records)));
    feeder.addReplay([[1, 2], [3]]);
    expect(feeder.hasWork()).toBe(true);
    expect(JSON.parse((feeder.unprocessed() as Buffer).toString())).toEqual([1, 2, 3]);
    while (!feeder.run());
    expect(seen).toEqual([1, 2, 3]);
    expect(feeder.hasWork()).toBe(false);
  });

  it('reads the clock less often after a slice of fast records, and a slow record after them overruns the slice by at most 64 records', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    let msPerRecord = 0;
    const seen: number[] = [];
    const feeder = new RecordFeeder((r) => {
      seen.push(r as number);
      vi.setSystemTime(Date.now() + msPerRecord);
    }, (records) => Buffer.from(JSON.stringify(records)));
    const channel = new InputGate().addChannel('c0');
    feeder.take(channel, Array.from({ length: 5000 }, (_, i) => i));
    expect(feeder.run()).toBe(true);
    await feeder.yieldNow();
    msPerRecord = 1;
    seen.length = 0;
    feeder.take(channel, Array.from({ length: 500 }, (_, i) => i));
    expect(feeder.run()).toBe(false);
    expect(seen.length).toBe(64); // fast records: the clock every 64 records
    await feeder.yieldNow();
    seen.length = 0;
    expect(feeder.run()).toBe(false);
    expect(seen.length).toBe(12); // 64 in the last slice: every 4 records, the first multiple of 4 at or past 10 ms
  });
});

import { describe, expect, it } from 'vitest';
import { Configuration } from '@weir/core';
import { exponentialDelay, failureRate, fixedDelay, noRestart, restartStrategyFrom, type ExponentialDelayOptions } from './restart-strategy';

describe('fixed-delay', () => {
  it('restarts `attempts` times with the delay, then gives up', () => {
    const s = fixedDelay(3, 250);
    expect([s.onFailure(0), s.onFailure(10), s.onFailure(20), s.onFailure(30), s.onFailure(40)]).toEqual([250, 250, 250, undefined, undefined]);
    expect(s.description).toBe('fixed-delay (3 attempts, 250 ms delay)');
  });

  it('with 0 attempts never restarts', () => {
    expect(fixedDelay(0, 100).onFailure(0)).toBeUndefined();
  });
});

describe('failure-rate', () => {
  it('gives up at more than max failures within the interval', () => {
    const s = failureRate(2, 1000, 50);
    expect(s.onFailure(0)).toBe(50);
    expect(s.onFailure(500)).toBe(50);
    expect(s.onFailure(999)).toBeUndefined();
  });

  it('forgets failures older than the interval', () => {
    const s = failureRate(2, 1000, 50);
    expect(s.onFailure(0)).toBe(50);
    expect(s.onFailure(500)).toBe(50);
    // the failure at 0 is exactly one interval old: it no longer counts
    expect(s.onFailure(1000)).toBe(50);
    expect(s.onFailure(1600)).toBe(50);
    expect(s.onFailure(1700)).toBeUndefined();
  });
});

describe('exponential-delay', () => {
  const base: ExponentialDelayOptions = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0, resetThresholdMs: 10_000, attempts: 100 };

  it('grows by the multiplier up to the maximum', () => {
    const s = exponentialDelay(base);
    const delays = [0, 1, 2, 3, 4, 5, 6].map((i) => s.onFailure(i * 10));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('keeps the jitter within +-jitter of the base delay', () => {
    const low = exponentialDelay({ ...base, jitter: 0.1, random: () => 0 });
    expect([low.onFailure(0), low.onFailure(1), low.onFailure(2)]).toEqual([90, 180, 360]);
    const high = exponentialDelay({ ...base, jitter: 0.1, random: () => 0.999999 });
    expect([high.onFailure(0), high.onFailure(1), high.onFailure(2)]).toEqual([110, 220, 440]);
    const mid = exponentialDelay({ ...base, jitter: 0.5, random: () => 0.5 });
    expect([mid.onFailure(0), mid.onFailure(1)]).toEqual([100, 200]);
  });

  it('starts over from the initial delay after a quiet stretch of reset-backoff-threshold', () => {
    const s = exponentialDelay({ ...base, resetThresholdMs: 5000 });
    expect([s.onFailure(0), s.onFailure(100), s.onFailure(200)]).toEqual([100, 200, 400]);
    expect(s.onFailure(5199)).toBe(800); // 4999 ms of quiet: no reset
    expect(s.onFailure(10_199)).toBe(100); // 5000 ms of quiet: reset
    expect(s.onFailure(10_200)).toBe(200);
  });

  it('gives up after attempts-before-reset-backoff restarts, and a reset allows restarts again', () => {
    const s = exponentialDelay({ ...base, attempts: 2, resetThresholdMs: 5000 });
    expect([s.onFailure(0), s.onFailure(1), s.onFailure(2)]).toEqual([100, 200, undefined]);
    expect(s.onFailure(6000)).toBe(100);
  });
});

describe('none', () => {
  it('never restarts', () => {
    const s = noRestart();
    expect(s.onFailure(0)).toBeUndefined();
    expect(s.onFailure(1_000_000)).toBeUndefined();
  });
});

describe('restartStrategyFrom', () => {
  it('defaults to exponential-delay with checkpointing and to none without', () => {
    expect(restartStrategyFrom(new Configuration(), true).description).toBe('exponential-delay (initial 1000 ms, max 60000 ms, x1.5)');
    expect(restartStrategyFrom(new Configuration(), false).description).toBe('no restart strategy');
  });

  it('the default exponential-delay keeps its delays within 10% jitter of 1 s, 1.5 s, 2.25 s', () => {
    const s = restartStrategyFrom(new Configuration(), true);
    const delays = [0, 1, 2].map((i) => s.onFailure(i) as number);
    [1000, 1500, 2250].forEach((expected, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(expected * 0.9);
      expect(delays[i]).toBeLessThanOrEqual(expected * 1.1);
    });
  });

  it('reads fixed-delay and failure-rate settings, durations included', () => {
    const fixed = restartStrategyFrom(
      new Configuration({ 'restart-strategy.type': 'fixed-delay', 'restart-strategy.fixed-delay.attempts': '2', 'restart-strategy.fixed-delay.delay': '3 s' }),
      false,
    );
    expect(fixed.description).toBe('fixed-delay (2 attempts, 3000 ms delay)');
    expect([fixed.onFailure(0), fixed.onFailure(1), fixed.onFailure(2)]).toEqual([3000, 3000, undefined]);

    const rate = restartStrategyFrom(
      new Configuration({
        'restart-strategy.type': 'failure-rate',
        'restart-strategy.failure-rate.max-failures-per-interval': 3,
        'restart-strategy.failure-rate.failure-rate-interval': '1 min',
        'restart-strategy.failure-rate.delay': '500 ms',
      }),
      true,
    );
    expect(rate.description).toBe('failure-rate (3 failures per 60000 ms, 500 ms delay)');
  });

  it('accepts Flink spellings and treats none/disable/off as no restart even with checkpointing', () => {
    expect(restartStrategyFrom(new Configuration({ 'restart-strategy.type': 'fixeddelay' }), false).description).toBe('fixed-delay (1 attempts, 1000 ms delay)');
    expect(restartStrategyFrom(new Configuration({ 'restart-strategy.type': 'FailureRate' }), false).description).toMatch(/^failure-rate /);
    for (const type of ['none', 'disable', 'off']) {
      expect(restartStrategyFrom(new Configuration({ 'restart-strategy.type': type }), true).description).toBe('no restart strategy');
    }
  });
});

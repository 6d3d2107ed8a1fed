import { describe, expect, it } from 'vitest';
import { Configuration } from './config';

function refusal(entries: Record<string, unknown>): string {
  try {
    new Configuration(entries);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
}

describe('checkpoint intervals and timeouts, as Flink bounds them', () => {
  it('refuses intervals under 10 ms: 0 does not silently turn checkpointing off', () => {
    expect(refusal({ 'execution.checkpointing.interval': 0 })).toBe(
      'execution.checkpointing.interval: must be at least 10 ms, got 0 ms (as in Flink; to turn checkpointing off, leave it unset)',
    );
    expect(refusal({ 'execution.checkpointing.interval': '1 ms' })).toMatch(/^execution.checkpointing.interval: must be at least 10 ms, got 1 ms/);
    expect(refusal({ 'execution.checkpointing.interval': '9' })).toMatch(/got 9 ms/);
    expect(new Configuration({ 'execution.checkpointing.interval': '10 ms' }).get('execution.checkpointing.interval')).toBe(10);
  });

  it('refuses values that are not durations', () => {
    expect(refusal({ 'execution.checkpointing.interval': 'abc' })).toBe('execution.checkpointing.interval: cannot read "abc" as a duration (examples: 500 ms, 1 s, 10 min)');
    expect(refusal({ 'execution.checkpointing.interval': 'NaN' })).toMatch(/cannot read "NaN" as a duration/);
    expect(refusal({ 'execution.checkpointing.interval': -5 })).toMatch(/expected a non-negative duration, got -5/);
    expect(refusal({ 'execution.checkpointing.interval': true })).toMatch(/expected a duration/);
  });

  it('refuses checkpoint timeouts under 10 ms; a min pause of 0 stays allowed', () => {
    expect(refusal({ 'execution.checkpointing.timeout': 5 })).toBe('execution.checkpointing.timeout: must be at least 10 ms, got 5 ms (as in Flink)');
    expect(refusal({ 'execution.checkpointing.min-pause': 0 })).toBe('accepted');
  });
});

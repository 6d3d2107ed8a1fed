import { ConfigError } from './errors';

const UNITS: Record<string, number> = {
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  min: 60_000, m: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
};

/** Parses Flink-style durations: "500 ms", "1 s", "10 min", or a bare number of milliseconds. */
export function parseDuration(value: string | number, key = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${key}: expected a non-negative duration, got ${value}`);
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!match) throw new ConfigError(`${key}: cannot read "${value}" as a duration (examples: 500 ms, 1 s, 10 min)`);
  const unit = (match[2] || 'ms').toLowerCase();
  const factor = UNITS[unit];
  if (factor === undefined) throw new ConfigError(`${key}: unknown time unit "${match[2]}" in "${value}" (use ms, s, min or h)`);
  return Math.round(Number(match[1]) * factor);
}

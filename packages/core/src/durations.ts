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

const SIZE_UNITS: Record<string, number> = {
  b: 1, bytes: 1,
  k: 1024, kb: 1024, kibibytes: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mebibytes: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gibibytes: 1024 ** 3,
};

/** Parses Flink-style memory sizes: "32kb", "64 k", "1 mb", or a bare number of bytes. */
export function parseMemorySize(value: string | number, key = 'size'): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${key}: expected a non-negative whole number of bytes, got ${value}`);
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!match) throw new ConfigError(`${key}: cannot read "${value}" as a size (examples: 32kb, 64 kb, 1 mb)`);
  const factor = SIZE_UNITS[(match[2] || 'b').toLowerCase()];
  if (factor === undefined) throw new ConfigError(`${key}: unknown size unit "${match[2]}" in "${value}" (use b, kb, mb or gb)`);
  return Math.round(Number(match[1]) * factor);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OPTIONS_BY_KEY, type ConfigOption } from './config-schema';
import { parseDuration, parseMemorySize } from './durations';
import { ConfigError } from './errors';

export type ConfigValue = string | number | boolean;

/** A validated configuration: every key is known and every value has its type. */
export class Configuration {
  private readonly values = new Map<string, ConfigValue>();

  constructor(entries: Record<string, unknown> = {}) {
    for (const [key, raw] of Object.entries(entries)) this.set(key, raw);
  }

  set(key: string, raw: unknown): this {
    this.values.set(key, validateValue(key, raw));
    return this;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): ConfigValue | undefined {
    const option = requireOption(key);
    return this.values.get(key) ?? option.default;
  }

  getNumber(key: string): number {
    const value = this.get(key);
    if (typeof value !== 'number') throw new ConfigError(`${key} has no value`);
    return value;
  }

  getOptionalNumber(key: string): number | undefined {
    const value = this.get(key);
    return typeof value === 'number' ? value : undefined;
  }

  getString(key: string): string {
    const value = this.get(key);
    if (value === undefined) throw new ConfigError(`${key} has no value`);
    return String(value);
  }

  getOptionalString(key: string): string | undefined {
    const value = this.get(key);
    return value === undefined ? undefined : String(value);
  }

  /** Layers `other` over this configuration into a new one. */
  merge(other: Configuration | Record<string, unknown>): Configuration {
    const merged = new Configuration();
    for (const [k, v] of this.values) merged.values.set(k, v);
    const entries = other instanceof Configuration ? other.toRecord() : other;
    for (const [k, v] of Object.entries(entries)) merged.set(k, v);
    return merged;
  }

  toRecord(): Record<string, ConfigValue> {
    return Object.fromEntries(this.values);
  }

  /** String form for the wire (proto map<string,string>); `secrets: false` leaves out keys marked secret. */
  toStringMap(options: { secrets?: boolean } = {}): Record<string, string> {
    const keep = ([k]: [string, ConfigValue]) => options.secrets !== false || !OPTIONS_BY_KEY.get(k)?.secret;
    return Object.fromEntries([...this.values].filter(keep).map(([k, v]) => [k, String(v)]));
  }
}

function requireOption(key: string): ConfigOption {
  const option = OPTIONS_BY_KEY.get(key);
  if (!option) throw new ConfigError(`unknown configuration key "${key}"${suggest(key)}`);
  return option;
}

function suggest(key: string): string {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of OPTIONS_BY_KEY.keys()) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 8)) ? ` (did you mean "${best.key}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

export function validateValue(key: string, raw: unknown): ConfigValue {
  const option = requireOption(key);
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (option.type) {
    case 'int':
    case 'double': {
      // Only numbers and numeric text: Number(null) (an empty YAML value) and Number(true) are not a setting.
      const n = typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : NaN;
      const ok = Number.isFinite(n) && (option.type === 'double' || Number.isInteger(n));
      if (!ok) throw new ConfigError(`${key}: expected ${option.type === 'int' ? 'an integer' : 'a number'}, got "${String(raw)}"`);
      if (option.min !== undefined && n < option.min) throw new ConfigError(`${key}: must be at least ${option.min}, got ${n}`);
      if (option.max !== undefined && n > option.max) throw new ConfigError(`${key}: must be at most ${option.max}, got ${n}`);
      return n;
    }
    case 'duration': {
      if (typeof text !== 'string' && typeof text !== 'number') throw new ConfigError(`${key}: expected a duration, got "${String(raw)}"`);
      const ms = parseDuration(text, key);
      if (option.min !== undefined && ms < option.min) throw new ConfigError(`${key}: must be at least ${option.min} ms, got ${ms} ms${option.belowMin ? ` (${option.belowMin})` : ''}`);
      if (option.max !== undefined && ms > option.max) throw new ConfigError(`${key}: must be at most ${option.max} ms, got ${ms} ms`);
      return ms;
    }
    case 'memory': {
      if (typeof text !== 'string' && typeof text !== 'number') throw new ConfigError(`${key}: expected a size, got "${String(raw)}"`);
      const bytes = parseMemorySize(text, key);
      if (option.min !== undefined && bytes < option.min) throw new ConfigError(`${key}: must be at least ${option.min} bytes, got ${bytes}`);
      return bytes;
    }
    case 'boolean': {
      if (text === true || text === 'true') return true;
      if (text === false || text === 'false') return false;
      throw new ConfigError(`${key}: expected true or false, got "${String(raw)}"`);
    }
    case 'enum': {
      const value = String(text);
      const found = option.values?.find((v) => v.toLowerCase() === value.toLowerCase());
      if (!found) throw new ConfigError(`${key}: "${value}" is not one of ${option.values?.join(', ')}`);
      return found;
    }
    case 'string': {
      if (typeof text !== 'string' || text === '') throw new ConfigError(`${key}: expected a non-empty string`);
      return text;
    }
  }
}

/** Flattens nested YAML (`execution: {checkpointing: {interval: 1s}}`) into dotted keys. */
function flatten(value: unknown, prefix: string, out: Record<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = value;
  }
}

export function parseConfigYaml(text: string, source: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${source}: expected a mapping of configuration keys`);
  const out: Record<string, unknown> = {};
  flatten(doc, '', out);
  return out;
}

/** `key: value` lines, as FLINK_PROPERTIES has them. */
export function parseProperties(text: string, source: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [i, line] of text.split('\n').entries()) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const colon = trimmed.indexOf(':');
    if (colon <= 0) throw new ConfigError(`${source} line ${i + 1}: expected "key: value", got "${trimmed}"`);
    out[trimmed.slice(0, colon).trim()] = trimmed.slice(colon + 1).trim();
  }
  return out;
}

/** Config file, then WEIR_PROPERTIES, then explicit overrides (CLI flags): later wins. */
export function loadConfiguration(options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {}): Configuration {
  const config = new Configuration();
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${options.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const base = path.dirname(path.resolve(options.file));
    for (const [k, v] of Object.entries(parseConfigYaml(text, options.file))) {
      // Key and certificate paths in a config file are relative to the file, so a directory of them moves as one.
      const relativeFile = OPTIONS_BY_KEY.get(k)?.file && typeof v === 'string' && v.trim() !== '' && !path.isAbsolute(v.trim());
      config.set(k, relativeFile ? path.resolve(base, (v as string).trim()) : v);
    }
  }
  const props = (options.env ?? process.env).WEIR_PROPERTIES;
  if (props) for (const [k, v] of Object.entries(parseProperties(props, 'WEIR_PROPERTIES'))) config.set(k, v);
  for (const [k, v] of Object.entries(options.overrides ?? {})) if (v !== undefined) config.set(k, v);
  return config;
}

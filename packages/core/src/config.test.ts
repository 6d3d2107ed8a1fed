import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configuration, loadConfiguration, parseConfigYaml, parseProperties } from './config';
import { parseDuration } from './durations';
import { ConfigError } from './errors';
import { CONFIG_OPTIONS } from './config-schema';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).kind).toBe('config');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('Configuration validation', () => {
  it('has one entry per key in the schema (two entries would give the config table a key twice, with two meanings)', () => {
    const keys = CONFIG_OPTIONS.map((o) => o.key);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('rejects an unknown key, naming it and suggesting the closest known key', () => {
    expect(errorOf(() => new Configuration({ 'execution.checkpointing.intervall': '1 s' })).message).toBe(
      'unknown configuration key "execution.checkpointing.intervall" (did you mean "execution.checkpointing.interval"?)',
    );
    expect(errorOf(() => new Configuration({ 'parallelism.defualt': 2 })).message).toBe(
      'unknown configuration key "parallelism.defualt" (did you mean "parallelism.default"?)',
    );
    expect(errorOf(() => new Configuration({ 'completely.unrelated.thing': 1 })).message).toBe('unknown configuration key "completely.unrelated.thing"');
    expect(errorOf(() => new Configuration().get('no.such.key')).message).toMatch(/^unknown configuration key "no.such.key"/);
  });

  it('rejects a state backend it does not have, and a non-boolean incremental flag, in one sentence each', () => {
    expect(errorOf(() => new Configuration({ 'state.backend.type': 'rocksdb' })).message).toBe('state.backend.type: "rocksdb" is not one of hashmap, lmdb');
    expect(errorOf(() => new Configuration({ 'execution.checkpointing.incremental': 'yes' })).message).toBe('execution.checkpointing.incremental: expected true or false, got "yes"');
    expect(new Configuration({ 'state.backend.type': 'LMDB' }).get('state.backend.type')).toBe('lmdb');
  });

  it('rejects bad integers with the key and the value', () => {
    expect(errorOf(() => new Configuration({ 'parallelism.default': '2.5' })).message).toBe('parallelism.default: expected an integer, got "2.5"');
    expect(errorOf(() => new Configuration({ 'parallelism.default': 'four' })).message).toBe('parallelism.default: expected an integer, got "four"');
    expect(errorOf(() => new Configuration({ 'parallelism.default': '' })).message).toBe('parallelism.default: expected an integer, got ""');
    expect(errorOf(() => new Configuration({ 'parallelism.default': 0 })).message).toBe('parallelism.default: must be at least 1, got 0');
  });

  it('rejects an integer key without a value or with a boolean (an empty YAML value is null)', () => {
    expect(errorOf(() => new Configuration({ 'jobmanager.rpc.port': null })).message).toBe('jobmanager.rpc.port: expected an integer, got "null"');
    expect(errorOf(() => new Configuration({ 'taskmanager.numberOfTaskSlots': true })).message).toBe(
      'taskmanager.numberOfTaskSlots: expected an integer, got "true"',
    );
  });

  it('rejects bad durations and enum values clearly', () => {
    expect(errorOf(() => new Configuration({ 'heartbeat.timeout': 'soon' })).message).toBe(
      'heartbeat.timeout: cannot read "soon" as a duration (examples: 500 ms, 1 s, 10 min)',
    );
    expect(errorOf(() => new Configuration({ 'heartbeat.timeout': '5 fortnights' })).message).toBe(
      'heartbeat.timeout: unknown time unit "fortnights" in "5 fortnights" (use ms, s, min or h)',
    );
    expect(errorOf(() => new Configuration({ 'heartbeat.timeout': '0 ms' })).message).toBe('heartbeat.timeout: must be at least 1 ms, got 0 ms');
    expect(errorOf(() => new Configuration({ 'execution.checkpointing.mode': 'maybe' })).message).toBe(
      'execution.checkpointing.mode: "maybe" is not one of EXACTLY_ONCE, AT_LEAST_ONCE',
    );
  });

  it('normalizes values: durations to ms, enums to their canonical spelling, numbers to numbers', () => {
    const c = new Configuration({
      'execution.checkpointing.interval': '10 min',
      'heartbeat.timeout': '1 s',
      'execution.checkpointing.timeout': 750,
      'execution.checkpointing.mode': 'at_least_once',
      'parallelism.default': ' 4 ',
      'restart-strategy.exponential-delay.backoff-multiplier': '2.5',
    });
    expect(c.get('execution.checkpointing.interval')).toBe(600_000);
    expect(c.get('heartbeat.timeout')).toBe(1000);
    expect(c.get('execution.checkpointing.timeout')).toBe(750);
    expect(c.get('execution.checkpointing.mode')).toBe('AT_LEAST_ONCE');
    expect(c.getNumber('parallelism.default')).toBe(4);
    expect(c.getNumber('restart-strategy.exponential-delay.backoff-multiplier')).toBe(2.5);
  });

  it('gives defaults for unset keys and undefined for keys without default', () => {
    const c = new Configuration();
    expect(c.getNumber('heartbeat.timeout')).toBe(50_000);
    expect(c.getNumber('state.checkpoints.num-retained')).toBe(1);
    expect(c.getOptionalNumber('execution.checkpointing.interval')).toBeUndefined();
    expect(c.has('heartbeat.timeout')).toBe(false);
    expect(errorOf(() => c.getNumber('execution.checkpointing.interval')).message).toBe('execution.checkpointing.interval has no value');
  });
});

describe('parseDuration', () => {
  it('reads Flink-style durations', () => {
    expect(parseDuration('500 ms')).toBe(500);
    expect(parseDuration('1 s')).toBe(1000);
    expect(parseDuration('10 min')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1.5 s')).toBe(1500);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration(42)).toBe(42);
    expect(parseDuration('3 SECONDS')).toBe(3000);
  });

  it('rejects negative and unreadable durations', () => {
    expect(errorOf(() => parseDuration(-1, 'k')).message).toBe('k: expected a non-negative duration, got -1');
    expect(errorOf(() => parseDuration('-5 s', 'k')).message).toBe('k: cannot read "-5 s" as a duration (examples: 500 ms, 1 s, 10 min)');
  });
});

describe('YAML and WEIR_PROPERTIES', () => {
  it('flattens nested YAML and keeps flat dotted keys', () => {
    const text = [
      'execution:',
      '  checkpointing:',
      '    interval: 2 s',
      '    mode: AT_LEAST_ONCE',
      'parallelism.default: 3',
      'state.checkpoints:',
      '  dir: /tmp/chk',
    ].join('\n');
    expect(parseConfigYaml(text, 'conf.yaml')).toEqual({
      'execution.checkpointing.interval': '2 s',
      'execution.checkpointing.mode': 'AT_LEAST_ONCE',
      'parallelism.default': 3,
      'state.checkpoints.dir': '/tmp/chk',
    });
    expect(parseConfigYaml('', 'empty.yaml')).toEqual({});
  });

  it('names the file when the YAML is broken or not a mapping', () => {
    expect(errorOf(() => parseConfigYaml('a: [1, 2', 'bad.yaml')).message).toMatch(/^bad\.yaml: not valid YAML: /);
    expect(errorOf(() => parseConfigYaml('- a\n- b\n', 'list.yaml')).message).toBe('list.yaml: expected a mapping of configuration keys');
  });

  it('parses key: value lines, skipping blanks and comments, and names a bad line', () => {
    expect(parseProperties('# comment\nparallelism.default: 2\n\n  state.checkpoints.dir: /a:b  \n', 'WEIR_PROPERTIES')).toEqual({
      'parallelism.default': '2',
      'state.checkpoints.dir': '/a:b',
    });
    expect(errorOf(() => parseProperties('parallelism.default: 2\noops', 'WEIR_PROPERTIES')).message).toBe(
      'WEIR_PROPERTIES line 2: expected "key: value", got "oops"',
    );
  });
});

describe('loadConfiguration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'weir-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('layers file < WEIR_PROPERTIES < overrides', () => {
    const file = path.join(dir, 'weir.yaml');
    writeFileSync(file, 'parallelism:\n  default: 2\nheartbeat.timeout: 20 s\nheartbeat.interval: 2 s\nrest.port: 9000\n');
    const env = { WEIR_PROPERTIES: 'heartbeat.timeout: 30 s\nheartbeat.interval: 3 s\n' };
    const c = loadConfiguration({ file, env, overrides: { 'heartbeat.interval': '4 s', 'rest.port': undefined } });
    expect(c.getNumber('parallelism.default')).toBe(2); // file only
    expect(c.getNumber('heartbeat.timeout')).toBe(30_000); // env over file
    expect(c.getNumber('heartbeat.interval')).toBe(4000); // override over env and file
    expect(c.getNumber('rest.port')).toBe(9000); // an undefined override does not erase
  });

  it('reports an unreadable file and a bad key in the file', () => {
    expect(errorOf(() => loadConfiguration({ file: path.join(dir, 'missing.yaml'), env: {} })).message).toBe(
      `cannot read config file ${path.join(dir, 'missing.yaml')}: ENOENT`,
    );
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'heartbeat:\n  timout: 5 s\n');
    expect(errorOf(() => loadConfiguration({ file, env: {} })).message).toBe('unknown configuration key "heartbeat.timout" (did you mean "heartbeat.timeout"?)');
  });

  it('validates WEIR_PROPERTIES values', () => {
    expect(errorOf(() => loadConfiguration({ env: { WEIR_PROPERTIES: 'parallelism.default: many' } })).message).toBe(
      'parallelism.default: expected an integer, got "many"',
    );
  });

  it('merge layers another configuration over this one', () => {
    const a = new Configuration({ 'parallelism.default': 2, 'heartbeat.timeout': '9 s' });
    const merged = a.merge({ 'parallelism.default': '5' });
    expect(merged.toRecord()).toEqual({ 'parallelism.default': 5, 'heartbeat.timeout': 9000 });
    expect(a.getNumber('parallelism.default')).toBe(2);
    expect(merged.toStringMap()).toEqual({ 'parallelism.default': '5', 'heartbeat.timeout': '9000' });
  });
});

describe('memory sizes (taskmanager.memory.segment-size and friends)', () => {
  it('reads Flink-style sizes and refuses bad ones with one clear message', () => {
    expect(new Configuration({ 'taskmanager.memory.segment-size': '64kb' }).get('taskmanager.memory.segment-size')).toBe(65536);
    expect(new Configuration({ 'taskmanager.memory.segment-size': '1 mb' }).get('taskmanager.memory.segment-size')).toBe(1048576);
    expect(new Configuration({ 'taskmanager.memory.segment-size': 4096 }).get('taskmanager.memory.segment-size')).toBe(4096);
    expect(new Configuration().get('taskmanager.memory.segment-size')).toBe(32768);
    expect(() => new Configuration({ 'taskmanager.memory.segment-size': 'big' })).toThrow('taskmanager.memory.segment-size: cannot read "big" as a size (examples: 32kb, 64 kb, 1 mb)');
    expect(() => new Configuration({ 'taskmanager.memory.segment-size': '3 parsecs' })).toThrow('taskmanager.memory.segment-size: unknown size unit "parsecs" in "3 parsecs" (use b, kb, mb or gb)');
    expect(() => new Configuration({ 'taskmanager.memory.segment-size': '100b' })).toThrow('taskmanager.memory.segment-size: must be at least 256 bytes, got 100');
    expect(() => new Configuration({ 'execution.checkpointing.unaligned.enabled': 'yes' })).toThrow('execution.checkpointing.unaligned.enabled: expected true or false, got "yes"');
  });
});

describe('file paths in a config file', () => {
  it('are taken from the file\'s directory when relative, as given when absolute, and -D values from the working directory', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'weir-config-paths-'));
    const file = path.join(dir, 'client.yaml');
    writeFileSync(file, 'security.ssl.rest.ca: ca.pem\nsecurity.ssl.rest.cert: /abs/client.pem\nstate.checkpoints.dir: relative/checkpoints\n');
    const config = loadConfiguration({ file, env: {}, overrides: { 'security.ssl.rest.key': 'key.pem' } });
    expect(config.getString('security.ssl.rest.ca')).toBe(path.join(dir, 'ca.pem'));
    expect(config.getString('security.ssl.rest.cert')).toBe('/abs/client.pem');
    expect(config.getString('state.checkpoints.dir')).toBe('relative/checkpoints');
    expect(config.getString('security.ssl.rest.key')).toBe('key.pem');
    rmSync(dir, { recursive: true, force: true });
  });
});

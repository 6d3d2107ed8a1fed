import { readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, NO_TYPES, RecordSerializer, type KeyGroupRange, type TypeRegistry } from '@weir/core';
import { HeapKeyedStateBackend } from './heap-backend';
import type { KeyedStateBackend, StateBackendType } from './keyed-backend';
import { LmdbKeyedStateBackend, type StateValueCodec } from './lmdb-backend';

/** The job's state settings, as a task reads them from its configuration. */
export interface StateBackendSettings {
  type: StateBackendType;
  incremental: boolean;
  localRecovery: boolean;
  maxChainLength: number;
  lmdbDir: string;
  localRecoveryDir: string;
}

const TYPES: readonly StateBackendType[] = ['hashmap', 'lmdb'];

function flag(value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : value === 'true';
}

export function stateBackendSettings(config: Record<string, string>): StateBackendSettings {
  const type = (config['state.backend.type'] ?? 'hashmap') as StateBackendType;
  if (!TYPES.includes(type)) {
    // The JobManager validates the key; this guards a hand-written deploy.
    throw new ConfigError(`state.backend.type "${type}" is not a state backend: use one of ${TYPES.join(', ')}`);
  }
  return {
    type,
    incremental: flag(config['execution.checkpointing.incremental']) ?? flag(config['state.backend.incremental']) ?? false,
    localRecovery: flag(config['state.backend.local-recovery']) ?? false,
    maxChainLength: Number(config['state.backend.changelog.max-chain-length'] ?? 20),
    lmdbDir: config['state.backend.lmdb.localdir'] ?? path.join(os.tmpdir(), 'weir-lmdb'),
    localRecoveryDir: config['taskmanager.state.local.root-dirs'] ?? path.join(os.tmpdir(), 'weir-local-state'),
  };
}

/** A TaskManager killed with SIGKILL leaves its stores behind: the next one on the machine removes them. */
function removeStoresOfDeadProcesses(jobDir: string): void {
  let names: string[];
  try {
    names = readdirSync(jobDir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/-(\d+)$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(path.join(jobDir, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Values go through the serializer contract, as snapshot files do: registered classes keep their prototype. */
export function stateCodec(types: TypeRegistry = NO_TYPES): StateValueCodec {
  const serializer = new RecordSerializer(types);
  return { encode: (v) => serializer.encodeState(v), decode: (b) => serializer.decodeState(b) };
}

export function createKeyedBackend(
  settings: StateBackendSettings,
  range: KeyGroupRange,
  maxParallelism: number,
  where: { jobId: string; task: string },
  types: TypeRegistry = NO_TYPES,
): KeyedStateBackend {
  const options = { trackChanges: settings.incremental };
  if (settings.type === 'lmdb') {
    const jobDir = path.join(settings.lmdbDir, where.jobId);
    removeStoresOfDeadProcesses(jobDir);
    const dir = path.join(jobDir, `${where.task.replace(/[^\w.-]/g, '_')}-${process.pid}`);
    return new LmdbKeyedStateBackend(range, maxParallelism, dir, stateCodec(types), types, options);
  }
  return new HeapKeyedStateBackend(range, maxParallelism, types, options);
}

import { OPTIONS_BY_KEY } from '@weir/core';

/** A task's data-plane and checkpointing settings, read once from the job's configuration. */
export interface NetworkSettings {
  segmentSize: number;
  minSegmentSize: number;
  debloat: boolean;
  debloatTargetMs: number;
  unaligned: boolean;
  alignedTimeoutMs: number;
}

function read(config: Record<string, string>, key: string): string {
  return config[key] ?? String(OPTIONS_BY_KEY.get(key)?.default ?? '');
}

export function networkSettings(config: Record<string, string>, mode: string): NetworkSettings {
  return {
    segmentSize: Number(read(config, 'taskmanager.memory.segment-size')),
    minSegmentSize: Number(read(config, 'taskmanager.network.memory.min-segment-size')),
    debloat: read(config, 'taskmanager.network.memory.buffer-debloat.enabled') === 'true',
    debloatTargetMs: Number(read(config, 'taskmanager.network.memory.buffer-debloat.target')),
    // Unaligned checkpoints only make sense where barriers are aligned at all.
    unaligned: mode === 'EXACTLY_ONCE' && read(config, 'execution.checkpointing.unaligned.enabled') === 'true',
    alignedTimeoutMs: Number(read(config, 'execution.checkpointing.aligned-checkpoint-timeout')),
  };
}

import { Configuration, validateValue } from '@weir/core';
import type { Duration } from './restart-strategies';

/** Flink's CheckpointingMode: aligned barriers (exactly-once) or not (at-least-once). */
export const CheckpointingMode = { EXACTLY_ONCE: 'EXACTLY_ONCE', AT_LEAST_ONCE: 'AT_LEAST_ONCE' } as const;
export type CheckpointingMode = (typeof CheckpointingMode)[keyof typeof CheckpointingMode];

/** Flink's ExternalizedCheckpointRetention: what happens to the latest checkpoint on cancel. */
export const ExternalizedCheckpointRetention = {
  RETAIN_ON_CANCELLATION: 'RETAIN_ON_CANCELLATION',
  DELETE_ON_CANCELLATION: 'DELETE_ON_CANCELLATION',
  NO_EXTERNALIZED_CHECKPOINTS: 'NO_EXTERNALIZED_CHECKPOINTS',
} as const;
export type ExternalizedCheckpointRetention = (typeof ExternalizedCheckpointRetention)[keyof typeof ExternalizedCheckpointRetention];

/**
 * Flink's CheckpointConfig, as `env.getCheckpointConfig()` returns it. Every setter writes
 * one `execution.checkpointing.*` key of the job's configuration and validates it as the
 * configuration file would, so the API and the keys cannot disagree.
 */
export class CheckpointConfig {
  constructor(private readonly jobConfig: Record<string, string>) {}

  private set(key: string, value: string | number): this {
    validateValue(key, value);
    this.jobConfig[key] = String(value);
    return this;
  }

  private read(key: string): string | number | boolean | undefined {
    return new Configuration(this.jobConfig).get(key);
  }

  /** At least 10 ms, as in Flink; checkpointing is off while no interval is set. */
  setCheckpointInterval(interval: Duration): this {
    return this.set('execution.checkpointing.interval', interval);
  }

  getCheckpointInterval(): number {
    return (this.read('execution.checkpointing.interval') as number | undefined) ?? -1;
  }

  isCheckpointingEnabled(): boolean {
    return this.getCheckpointInterval() > 0;
  }

  setCheckpointingMode(mode: CheckpointingMode): this {
    return this.set('execution.checkpointing.mode', mode);
  }

  getCheckpointingMode(): CheckpointingMode {
    return this.read('execution.checkpointing.mode') as CheckpointingMode;
  }

  setMinPauseBetweenCheckpoints(minPause: Duration): this {
    return this.set('execution.checkpointing.min-pause', minPause);
  }

  getMinPauseBetweenCheckpoints(): number {
    return this.read('execution.checkpointing.min-pause') as number;
  }

  setCheckpointTimeout(timeout: Duration): this {
    return this.set('execution.checkpointing.timeout', timeout);
  }

  getCheckpointTimeout(): number {
    return this.read('execution.checkpointing.timeout') as number;
  }

  setMaxConcurrentCheckpoints(maxConcurrent: number): this {
    return this.set('execution.checkpointing.max-concurrent-checkpoints', maxConcurrent);
  }

  getMaxConcurrentCheckpoints(): number {
    return this.read('execution.checkpointing.max-concurrent-checkpoints') as number;
  }

  setTolerableCheckpointFailureNumber(tolerable: number): this {
    return this.set('execution.checkpointing.tolerable-failed-checkpoints', tolerable);
  }

  getTolerableCheckpointFailureNumber(): number {
    return this.read('execution.checkpointing.tolerable-failed-checkpoints') as number;
  }

  setExternalizedCheckpointRetention(retention: ExternalizedCheckpointRetention): this {
    return this.set('execution.checkpointing.externalized-checkpoint-retention', retention);
  }

  getExternalizedCheckpointRetention(): ExternalizedCheckpointRetention {
    return this.read('execution.checkpointing.externalized-checkpoint-retention') as ExternalizedCheckpointRetention;
  }
}

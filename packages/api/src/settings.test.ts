import { describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment } from './environment';
import { CheckpointingMode, ExternalizedCheckpointRetention } from './checkpoint-config';
import { RestartStrategies } from './restart-strategies';

/** The job configuration a pipeline records, as the JobManager receives it. */
function configOf(setup: (env: StreamExecutionEnvironment) => void): Record<string, string> {
  const env = new StreamExecutionEnvironment();
  setup(env);
  env.fromSequence(1, 2).print();
  return env.buildPlan().graph.config;
}

describe("Flink's API for settings writes the configuration keys", () => {
  it('RestartStrategies + setRestartStrategy equal the restart-strategy.* keys', () => {
    expect(configOf((env) => env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 1000)))).toEqual(
      configOf((env) => env.configure('restart-strategy.type', 'fixed-delay').configure('restart-strategy.fixed-delay.attempts', 3).configure('restart-strategy.fixed-delay.delay', 1000)),
    );
    expect(configOf((env) => env.setRestartStrategy(RestartStrategies.noRestart()))).toEqual({ 'restart-strategy.type': 'none' });
    expect(configOf((env) => env.setRestartStrategy(RestartStrategies.failureRateRestart(2, '1 min', '500 ms')))).toEqual({
      'restart-strategy.type': 'failure-rate',
      'restart-strategy.failure-rate.max-failures-per-interval': '2',
      'restart-strategy.failure-rate.failure-rate-interval': '1 min',
      'restart-strategy.failure-rate.delay': '500 ms',
    });
    expect(configOf((env) => env.setRestartStrategy(RestartStrategies.exponentialDelayRestart(100, 10_000, 2, 60_000, 0.1)))).toEqual({
      'restart-strategy.type': 'exponential-delay',
      'restart-strategy.exponential-delay.initial-backoff': '100',
      'restart-strategy.exponential-delay.max-backoff': '10000',
      'restart-strategy.exponential-delay.backoff-multiplier': '2',
      'restart-strategy.exponential-delay.reset-backoff-threshold': '60000',
      'restart-strategy.exponential-delay.jitter-factor': '0.1',
    });
  });

  it('setRestartStrategy replaces the previous strategy whole', () => {
    const config = configOf((env) => env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 1000)).setRestartStrategy(RestartStrategies.noRestart()));
    expect(config).toEqual({ 'restart-strategy.type': 'none' });
  });

  it('getCheckpointConfig setters equal the execution.checkpointing.* keys, and read them back', () => {
    let checkpointConfig: ReturnType<StreamExecutionEnvironment['getCheckpointConfig']> | undefined;
    const viaApi = configOf((env) => {
      env.enableCheckpointing(5000);
      checkpointConfig = env
        .getCheckpointConfig()
        .setCheckpointingMode(CheckpointingMode.AT_LEAST_ONCE)
        .setMinPauseBetweenCheckpoints(500)
        .setCheckpointTimeout('1 min')
        .setMaxConcurrentCheckpoints(2)
        .setTolerableCheckpointFailureNumber(3)
        .setExternalizedCheckpointRetention(ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION);
    });
    const viaKeys = configOf((env) =>
      env
        .configure('execution.checkpointing.interval', 5000)
        .configure('execution.checkpointing.mode', 'AT_LEAST_ONCE')
        .configure('execution.checkpointing.min-pause', 500)
        .configure('execution.checkpointing.timeout', '1 min')
        .configure('execution.checkpointing.max-concurrent-checkpoints', 2)
        .configure('execution.checkpointing.tolerable-failed-checkpoints', 3)
        .configure('execution.checkpointing.externalized-checkpoint-retention', 'DELETE_ON_CANCELLATION'),
    );
    expect(viaApi).toEqual(viaKeys);
    const c = checkpointConfig!;
    expect([c.getCheckpointInterval(), c.getCheckpointingMode(), c.getMinPauseBetweenCheckpoints(), c.getCheckpointTimeout()]).toEqual([5000, 'AT_LEAST_ONCE', 500, 60_000]);
    expect([c.getMaxConcurrentCheckpoints(), c.getTolerableCheckpointFailureNumber(), c.getExternalizedCheckpointRetention(), c.isCheckpointingEnabled()]).toEqual([2, 3, 'DELETE_ON_CANCELLATION', true]);
    expect(new StreamExecutionEnvironment().getCheckpointConfig().isCheckpointingEnabled()).toBe(false);
  });

  it('refuses, at the call, what the configuration file would refuse', () => {
    const env = new StreamExecutionEnvironment();
    const cfg = env.getCheckpointConfig();
    const refusal = 'execution.checkpointing.interval: must be at least 10 ms, got 0 ms (as in Flink; to turn checkpointing off, leave it unset)';
    expect(() => env.enableCheckpointing(0)).toThrow(refusal);
    expect(() => env.enableCheckpointing(1)).toThrow('execution.checkpointing.interval: must be at least 10 ms, got 1 ms');
    expect(() => env.enableCheckpointing(NaN)).toThrow('execution.checkpointing.interval: expected a non-negative duration, got NaN');
    expect(() => env.enableCheckpointing('abc' as unknown as number)).toThrow('execution.checkpointing.interval: cannot read "abc" as a duration');
    expect(() => env.enableCheckpointing(5000, 'ONCE' as CheckpointingMode)).toThrow('execution.checkpointing.mode: "ONCE" is not one of EXACTLY_ONCE, AT_LEAST_ONCE');
    expect(() => cfg.setCheckpointTimeout(5)).toThrow('execution.checkpointing.timeout: must be at least 10 ms, got 5 ms');
    expect(() => cfg.setMaxConcurrentCheckpoints(0)).toThrow('execution.checkpointing.max-concurrent-checkpoints: must be at least 1, got 0');
    expect(() => cfg.setTolerableCheckpointFailureNumber(-1)).toThrow('execution.checkpointing.tolerable-failed-checkpoints: must be at least 0, got -1');
    expect(() => RestartStrategies.fixedDelayRestart(3, 'soon')).toThrow('restart-strategy.fixed-delay.delay: cannot read "soon" as a duration');
    expect(() => RestartStrategies.fixedDelayRestart(2.5, 1000)).toThrow('RestartStrategies.fixedDelayRestart: expected an integer, got 2.5');
    expect(() => env.configure('execution.checkpointing.interval', '5 ms')).toThrow('must be at least 10 ms');
    expect(() => env.setRestartStrategy({} as never)).toThrow('setRestartStrategy: expected a RestartStrategies.* value');
    // Nothing half-set: a refused value leaves the job's configuration as it was.
    env.fromSequence(1, 2).print();
    expect(env.buildPlan().graph.config).toEqual({});
    // The minimum itself and "0 pause" (which Flink allows) are fine.
    expect(configOf((e) => e.enableCheckpointing(10).getCheckpointConfig().setMinPauseBetweenCheckpoints(0))['execution.checkpointing.interval']).toBe('10');
  });

  it('CheckpointingMode and ExternalizedCheckpointRetention are values, as Flink enums are', () => {
    expect(CheckpointingMode.EXACTLY_ONCE).toBe('EXACTLY_ONCE');
    expect(CheckpointingMode.AT_LEAST_ONCE).toBe('AT_LEAST_ONCE');
    expect(Object.keys(ExternalizedCheckpointRetention)).toEqual(['RETAIN_ON_CANCELLATION', 'DELETE_ON_CANCELLATION', 'NO_EXTERNALIZED_CHECKPOINTS']);
  });
});

describe('getExecutionEnvironment and execute', () => {
  it('gives the environment the job loader installs, and execute(name) names the job', async () => {
    const env = new StreamExecutionEnvironment();
    StreamExecutionEnvironment.withAmbient(env, () => {
      const same = StreamExecutionEnvironment.getExecutionEnvironment();
      same.fromSequence(1, 2).print();
      void same.execute('Checkpoint Example');
    });
    expect(env.buildPlan().graph.name).toBe('Checkpoint Example');
    await expect(env.execute()).resolves.toBeUndefined();
  });

  it('outside a job module it says where it works', () => {
    expect(() => StreamExecutionEnvironment.getExecutionEnvironment()).toThrow('getExecutionEnvironment() works inside a job module run by `weir run`');
  });
});

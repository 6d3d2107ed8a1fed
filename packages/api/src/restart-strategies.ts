import { validateValue } from '@weir/core';

/** A duration in milliseconds, or Flink-style text ("1 s", "500 ms", "10 min"). */
export type Duration = number | string;

/**
 * A restart strategy as Flink's `RestartStrategies` builds it: nothing but the
 * `restart-strategy.*` configuration keys it stands for, so that
 * `env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 1000))` and
 * `restart-strategy.type: fixed-delay` with `...attempts: 3`, `...delay: 1 s` are one setting.
 */
export interface RestartStrategyConfiguration {
  readonly description: string;
  /** The configuration keys and values this strategy sets (validated when it is built). */
  readonly config: Readonly<Record<string, string>>;
}

function strategy(description: string, entries: Record<string, string | number>): RestartStrategyConfiguration {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries)) {
    // The same validation as the configuration file: a bad value fails here, with the key.
    validateValue(key, value);
    config[key] = String(value);
  }
  return Object.freeze({ description, config: Object.freeze(config) });
}

function count(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`RestartStrategies.${name}: expected an integer, got ${String(value)}`);
  return value;
}

export const RestartStrategies = {
  /** Fails the job at the first failure (`restart-strategy.type: none`). */
  noRestart(): RestartStrategyConfiguration {
    return strategy('no restart', { 'restart-strategy.type': 'none' });
  },

  /** Restarts up to `restartAttempts` times, waiting `delayBetweenAttempts` before each. */
  fixedDelayRestart(restartAttempts: number, delayBetweenAttempts: Duration): RestartStrategyConfiguration {
    return strategy(`fixed-delay (${restartAttempts} attempts, ${delayBetweenAttempts} delay)`, {
      'restart-strategy.type': 'fixed-delay',
      'restart-strategy.fixed-delay.attempts': count('fixedDelayRestart', restartAttempts),
      'restart-strategy.fixed-delay.delay': delayBetweenAttempts,
    });
  },

  /** Restarts unless more than `failureRate` failures happen within `failureInterval`. */
  failureRateRestart(failureRate: number, failureInterval: Duration, delayInterval: Duration): RestartStrategyConfiguration {
    return strategy(`failure-rate (${failureRate} per ${failureInterval}, ${delayInterval} delay)`, {
      'restart-strategy.type': 'failure-rate',
      'restart-strategy.failure-rate.max-failures-per-interval': count('failureRateRestart', failureRate),
      'restart-strategy.failure-rate.failure-rate-interval': failureInterval,
      'restart-strategy.failure-rate.delay': delayInterval,
    });
  },

  /** Flink's argument order: initial backoff, max backoff, multiplier, reset threshold, jitter. */
  exponentialDelayRestart(
    initialBackoff: Duration,
    maxBackoff: Duration,
    backoffMultiplier: number,
    resetBackoffThreshold: Duration,
    jitterFactor: number,
  ): RestartStrategyConfiguration {
    return strategy(`exponential-delay (initial ${initialBackoff}, max ${maxBackoff}, x${backoffMultiplier})`, {
      'restart-strategy.type': 'exponential-delay',
      'restart-strategy.exponential-delay.initial-backoff': initialBackoff,
      'restart-strategy.exponential-delay.max-backoff': maxBackoff,
      'restart-strategy.exponential-delay.backoff-multiplier': backoffMultiplier,
      'restart-strategy.exponential-delay.reset-backoff-threshold': resetBackoffThreshold,
      'restart-strategy.exponential-delay.jitter-factor': jitterFactor,
    });
  },
} as const;

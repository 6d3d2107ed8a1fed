import type { Configuration } from '@weir/core';

/** Decides after each failure whether the job restarts, and after how long. */
export interface RestartStrategy {
  readonly description: string;
  /** Records a failure at `now`; returns the delay before the restart, or undefined to give up. */
  onFailure(now: number): number | undefined;
}

export function noRestart(): RestartStrategy {
  return { description: 'no restart strategy', onFailure: () => undefined };
}

export function fixedDelay(attempts: number, delayMs: number): RestartStrategy {
  let restarts = 0;
  return {
    description: `fixed-delay (${attempts} attempts, ${delayMs} ms delay)`,
    onFailure() {
      if (restarts >= attempts) return undefined;
      restarts++;
      return delayMs;
    },
  };
}

export function failureRate(maxFailures: number, intervalMs: number, delayMs: number): RestartStrategy {
  const failures: number[] = [];
  return {
    description: `failure-rate (${maxFailures} failures per ${intervalMs} ms, ${delayMs} ms delay)`,
    onFailure(now) {
      failures.push(now);
      while (failures.length && failures[0] <= now - intervalMs) failures.shift();
      return failures.length > maxFailures ? undefined : delayMs;
    },
  };
}

export interface ExponentialDelayOptions {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  jitter: number;
  resetThresholdMs: number;
  attempts: number;
  random?: () => number;
}

export function exponentialDelay(o: ExponentialDelayOptions): RestartStrategy {
  let current = o.initialMs;
  let lastFailure: number | undefined;
  let attempts = 0;
  const random = o.random ?? Math.random;
  return {
    description: `exponential-delay (initial ${o.initialMs} ms, max ${o.maxMs} ms, x${o.multiplier})`,
    onFailure(now) {
      // A long quiet stretch means the job is healthy again: start over from the initial delay.
      if (lastFailure !== undefined && now - lastFailure >= o.resetThresholdMs) {
        current = o.initialMs;
        attempts = 0;
      }
      lastFailure = now;
      if (attempts >= o.attempts) return undefined;
      attempts++;
      const base = current;
      current = Math.min(o.maxMs, Math.max(1, current) * o.multiplier);
      const jitter = base * o.jitter * (random() * 2 - 1);
      return Math.max(0, Math.round(base + jitter));
    },
  };
}

export function restartStrategyFrom(config: Configuration, checkpointingEnabled: boolean): RestartStrategy {
  const configured = config.getOptionalString('restart-strategy.type');
  const type = (configured ?? (checkpointingEnabled ? 'exponential-delay' : 'none')).replace(/^(fixeddelay|failurerate|exponentialdelay)$/, (m) =>
    ({ fixeddelay: 'fixed-delay', failurerate: 'failure-rate', exponentialdelay: 'exponential-delay' })[m] as string,
  );
  switch (type) {
    case 'fixed-delay':
      return fixedDelay(config.getNumber('restart-strategy.fixed-delay.attempts'), config.getNumber('restart-strategy.fixed-delay.delay'));
    case 'failure-rate':
      return failureRate(
        config.getNumber('restart-strategy.failure-rate.max-failures-per-interval'),
        config.getNumber('restart-strategy.failure-rate.failure-rate-interval'),
        config.getNumber('restart-strategy.failure-rate.delay'),
      );
    case 'exponential-delay':
      return exponentialDelay({
        initialMs: config.getNumber('restart-strategy.exponential-delay.initial-backoff'),
        maxMs: config.getNumber('restart-strategy.exponential-delay.max-backoff'),
        multiplier: config.getNumber('restart-strategy.exponential-delay.backoff-multiplier'),
        jitter: config.getNumber('restart-strategy.exponential-delay.jitter-factor'),
        resetThresholdMs: config.getNumber('restart-strategy.exponential-delay.reset-backoff-threshold'),
        attempts: config.getNumber('restart-strategy.exponential-delay.attempts-before-reset-backoff'),
      });
    default:
      return noRestart();
  }
}

/** Errors are values with a kind: the CLI prints `message` and exits non-zero; logs carry `cause`. */
export type ErrorKind = 'config' | 'job' | 'rpc' | 'checkpoint' | 'state' | 'usage';

export class WeirError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `WeirError(${kind})`;
  }
}

export class ConfigError extends WeirError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config', message, options);
  }
}
export class JobError extends WeirError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('job', message, options);
  }
}
export class RpcError extends WeirError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('rpc', message, options);
  }
}
export class CheckpointError extends WeirError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('checkpoint', message, options);
  }
}
export class StateError extends WeirError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('state', message, options);
  }
}

/** One line for a human: the message, and for unexpected errors their own message. */
export function describeError(err: unknown): string {
  if (err instanceof WeirError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

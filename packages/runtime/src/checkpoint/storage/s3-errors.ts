/** One clear sentence for each way an object store can refuse or be missing. */
import { CheckpointError } from '@weir/core';

interface S3Failure {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|EPIPE|TimeoutError|RequestTimeout|socket hang up/i;

export function statusOf(err: unknown): number | undefined {
  return (err as S3Failure)?.$metadata?.httpStatusCode;
}

/** No answer at all: refused, timed out, reset, unresolvable. */
export function isUnreachable(err: unknown): boolean {
  const e = err as S3Failure;
  return statusOf(err) === undefined && UNREACHABLE.test(`${e?.name ?? ''} ${e?.code ?? ''} ${e?.message ?? ''}`);
}

/** Worth another try after a backoff: throttled, a server error, or no answer. */
export function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  const name = (err as S3Failure)?.name ?? '';
  if (name === 'SlowDown' || name === 'ThrottlingException' || name === 'RequestTimeTooSkewed') return true;
  if (status !== undefined) return status === 503 || status === 500 || status === 502 || status === 504 || status === 429;
  return isUnreachable(err);
}

export function isNotFound(err: unknown): boolean {
  const name = (err as S3Failure)?.name ?? '';
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(err) === 404 && name !== 'NoSuchBucket');
}

/** The error a user sees: what was being done, where, and why, in one line. */
export function describeS3Failure(err: unknown, operation: string, location: string, bucket: string, endpoint: string, attempts: number): CheckpointError {
  const e = err as S3Failure;
  const name = e?.name ?? 'Error';
  const status = statusOf(err);
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  let message: string;
  if (name === 'NoSuchBucket') {
    message = `bucket "${bucket}" does not exist at ${endpoint} (${operation} ${location})`;
  } else if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'InvalidClientTokenId' || name === 'CredentialsProviderError' || (status === 403 && name !== 'AccessDenied')) {
    message = `${endpoint} refused the credentials for bucket "${bucket}" (${name}): check s3.access-key and s3.secret-key or the AWS credential chain (${operation} ${location})`;
  } else if (name === 'AccessDenied' || status === 403) {
    message = `${endpoint} denied access to ${location} (AccessDenied): the credentials lack permission for ${operation}`;
  } else if (isUnreachable(err)) {
    const why = /(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN)/.exec(`${e?.code ?? ''} ${e?.message ?? ''}`)?.[1] ?? (name === 'TimeoutError' ? 'timed out (s3.connection.timeout)' : name);
    message = `cannot reach the object store at ${endpoint}: ${why}${tries} (${operation} ${location})`;
  } else if (isNotFound(err)) {
    message = `${location} does not exist`;
  } else {
    message = `${operation} ${location} at ${endpoint} failed${tries}: ${name}${status ? ` (HTTP ${status})` : ''}${e?.message && e.message !== name ? `: ${e.message}` : ''}`;
  }
  const out = new CheckpointError(message, { cause: err });
  if (isNotFound(err)) Object.assign(out, { missing: true });
  return out;
}

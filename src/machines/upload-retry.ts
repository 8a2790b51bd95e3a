/**
 * Retry policy and error classification shared by the file actors and the finalize step.
 */
import { MalformedAnswerError, isUploadLifecycleError, type UploadErrorCode } from '../errors.js';
import { isStorageTransferError } from '../core/port.js';

export { deserializeError, serializeError, type SerializedUploadError } from '../core/error-data.js';

/** Exponential backoff with jitter. All fields are plain numbers so the policy persists. */
export interface RetryPolicy {
  /** Tries per step, the first included (`1` = never retry). */
  attempts: number;
  /** Delay before the first retry, in ms. */
  baseDelayMs: number;
  /** Upper bound of any delay, in ms. */
  maxDelayMs: number;
  /** Growth per failure. */
  factor: number;
  /** Share of the delay that is random: 0 = none, 1 = "full jitter". */
  jitter: number;
}

/** The retry policy used when none is given: exponential backoff with jitter, a few attempts. */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

/**
 * The delay before retry number `failures` (1 = first retry): `base · factor^(failures−1)`,
 * capped, with the `jitter` share of it drawn from `random()` so clients that failed together do
 * not retry together.
 *
 * @example
 * ```ts
 * backoffDelay(3, DEFAULT_RETRY, () => 1); // 2000
 * backoffDelay(3, DEFAULT_RETRY, () => 0); // 1000
 * ```
 */
export function backoffDelay(failures: number, policy: RetryPolicy, random: () => number): number {
  const exponential = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * policy.factor ** Math.max(0, failures - 1),
  );
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(exponential * (1 - policy.jitter + policy.jitter * r));
}

/** What to do after a failed step. */
export type FailureClass = 'retry' | 'exists' | 'aborted' | 'fatal';

const DATABASE_ERRORS: readonly UploadErrorCode[] = ['UL001', 'UL002', 'UL003', 'UL004', 'UL005', 'UL006'];

/**
 * Retry what may succeed unchanged (network, 5xx, unknown); never retry a database refusal
 * (`UL001`…`UL006`), a policy/limit refusal from Storage, or an abort. An object that already
 * exists counts as uploaded: finalize checks its size and type anyway.
 */
export function classifyFailure(error: unknown): FailureClass {
  if (isStorageTransferError(error)) {
    if (error.storageCode === 'Aborted') return 'aborted';
    if (error.storageCode === 'Duplicate') return 'exists';
    return error.retryable ? 'retry' : 'fatal';
  }
  if (error instanceof MalformedAnswerError) return 'fatal';
  if (isUploadLifecycleError(error) && DATABASE_ERRORS.includes(error.code)) return 'fatal';
  // Other database errors: only connection, concurrency and resource trouble may pass on retry.
  const sqlstate = isUploadLifecycleError(error)
    ? error.sqlstate
    : (error as { code?: unknown } | null)?.code;
  if (typeof sqlstate === 'string' && /^[0-9A-Z]{5}$/.test(sqlstate)) {
    return /^(08|53|57|40001|40P01|55P03)/.test(sqlstate) ? 'retry' : 'fatal';
  }
  if (typeof sqlstate === 'string' && sqlstate.startsWith('PGRST')) return 'fatal';
  if (error instanceof Error && (error.name === 'ZodError' || error.name === '$ZodError')) return 'fatal';
  return 'retry';
}

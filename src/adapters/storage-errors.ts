/**
 * Storage's answers as typed errors. Supabase Storage renders every refusal as
 * `{ statusCode, code, error, message }`; the standard endpoint sends it with HTTP 400 (500 for
 * server errors) and the body's `statusCode` carries the real status, the resumable endpoint sends
 * the real status with the message as plain text (DESIGN §3, docs/storage.md).
 *
 * Two answers need more than the status:
 * - a database refusal inside Storage (a trigger raising `UL005`) is HTTP 500 `DatabaseError` with
 *   the SQLSTATE only in the message (`database error, code: UL005`): it is the typed,
 *   non-retryable error of that code, never "Storage is down, retry";
 * - an expired token is `InvalidJWT` (or, on Storage versions that reject the bearer in their auth
 *   hook, `AccessDenied` with the JWT library's message): retryable, because the next request
 *   reads the client's current token.
 *
 * @example
 * ```ts
 * const error = storageFailure(500, { error: 'DatabaseError', message: 'database error, code: UL005' });
 * error instanceof NotAcceptingError; // true
 * ```
 */
import { StorageTransferError, type StorageErrorCode } from '../core/port.js';
import { toUploadLifecycleError, type UploadLifecycleError } from '../errors.js';

// The transfer errors themselves are part of the port (src/core/port.ts).
export { StorageTransferError, abortError, isStorageTransferError, networkError } from '../core/port.js';
export type { StorageErrorCode } from '../core/port.js';

const NEXT: Record<StorageErrorCode, string> = {
  AccessDenied: 'Storage refused the object: register the file and begin the upload first.',
  InvalidJWT: 'The access token was refused (expired or invalid); the next try sends the current one.',
  Duplicate: 'The object already exists; finalize will check it.',
  OffsetConflict: 'The server stored more of this upload than it said; the next try resumes from its offset.',
  EntityTooLarge: 'Choose a smaller file.',
  InvalidMimeType: 'Choose a file of an allowed type.',
  NoSuchBucket: 'The bucket of this kind does not exist; check the kind configuration.',
  NoSuchUpload: 'The resumable upload expired; it will start again.',
  InvalidRequest: 'The request was refused; check the file.',
  InternalError: 'Storage is unavailable; the upload will be retried.',
  Aborted: '',
  NetworkError: '',
};

const RETRYABLE: ReadonlySet<StorageErrorCode> = new Set([
  'InternalError',
  'NoSuchUpload',
  'InvalidJWT',
  'OffsetConflict',
]);

function codeOf(named: string, effective: number): StorageErrorCode {
  if (named === 'InvalidJWT' || named === 'OffsetConflict') return named;
  if (effective === 403 || named === 'AccessDenied' || named === 'Unauthorized') return 'AccessDenied';
  if (effective === 409 || ['Duplicate', 'ResourceAlreadyExists', 'KeyAlreadyExists'].includes(named))
    return 'Duplicate';
  if (effective === 413 || named === 'EntityTooLarge') return 'EntityTooLarge';
  if (effective === 415 || named === 'InvalidMimeType') return 'InvalidMimeType';
  if (named === 'NoSuchUpload') return 'NoSuchUpload';
  if (effective === 404) return 'NoSuchBucket';
  if (effective >= 500 || effective === 423 || effective === 429) return 'InternalError';
  return 'InvalidRequest';
}

/**
 * Maps a Storage answer (`{ statusCode, code, error, message }` or a plain-text body, and the HTTP
 * status) to a typed transfer error. The body's `statusCode` wins over the HTTP status, because
 * the standard endpoint sends every refusal as HTTP 400 with the real status in the body.
 * For the full mapping, database refusals included, use {@link storageFailure}.
 */
export function storageError(status: number, body: unknown): StorageTransferError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const effective = Number(b.statusCode ?? status) || status;
  const text = typeof b.message === 'string' ? b.message : typeof body === 'string' ? body : `HTTP ${status}`;
  const storageCode = codeOf(String(b.code ?? b.error ?? ''), effective);
  return new StorageTransferError({
    message: `${text} (${storageCode}). ${NEXT[storageCode]}`.trim(),
    status,
    storageCode,
    retryable: RETRYABLE.has(storageCode),
    cause: body,
  });
}

/** `database error, code: UL005` — the only place Storage puts the SQLSTATE of a refusal. */
const DATABASE_CODE = /\bcode:\s*(UL00[1-6])\b/i;

/**
 * Every Storage answer as the error a caller should branch on:
 * - a `UL001`…`UL006` SQLSTATE in it (a trigger of this package refused the write or delete inside
 *   Storage) → the typed database error of that code (`NotAcceptingError` for `UL005`, …), which
 *   is never retried;
 * - `AccessDenied` or another 400 while `token` (the bearer that was sent) has expired →
 *   `InvalidJWT`, retryable (storage-js drops the body's `code`, so on the standard endpoint
 *   `InvalidJWT` arrives as a bare 400);
 * - anything else → {@link storageError}.
 *
 * @example
 * ```ts
 * const { error } = await supabase.storage.from(bucket).remove([path]);
 * if (error) throw storageFailure((error as { status: number }).status, error);
 * ```
 */
export function storageFailure(
  status: number,
  body: unknown,
  sent: { token?: string | null | undefined; now?: number } = {},
): UploadLifecycleError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const message = typeof b.message === 'string' ? b.message : typeof body === 'string' ? body : '';
  const named = typeof b.code === 'string' && /^UL00[1-6]$/i.test(b.code) ? b.code : undefined;
  const code = named ?? DATABASE_CODE.exec(message)?.[1];
  if (code) {
    return toUploadLifecycleError({
      code: code.toUpperCase(),
      message: `Storage refused the operation: the database answered ${code.toUpperCase()} (${message}).`,
      cause: body,
    });
  }
  const error = storageError(status, body);
  const authRefusal = error.storageCode === 'AccessDenied' || error.storageCode === 'InvalidRequest';
  if (authRefusal && sent.token && tokenExpired(sent.token, sent.now)) {
    return storageError(status, { statusCode: '400', code: 'InvalidJWT', message: error.message });
  }
  return error;
}

/** True when `token` is a JWT whose `exp` has passed (anything else: false). */
export function tokenExpired(token: string, now = Date.now()): boolean {
  const payload = token.split('.')[1];
  if (!payload) return false;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && exp * 1000 <= now;
  } catch {
    return false;
  }
}

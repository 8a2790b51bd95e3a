/**
 * The adapters' side of the Backend port: the port itself lives in the core
 * (`src/core/port.ts`, re-exported here), and this module adds what only adapters need — reading a
 * Storage answer into a typed error.
 */
import { StorageTransferError, type StorageErrorCode } from '../core/port.js';

export * from '../core/port.js';

/**
 * Maps a Storage answer (`{ statusCode, error|code, message }`, HTTP status) to a typed error.
 * Policy refusals are 403 on the resumable endpoint but HTTP 400 with `statusCode: "403"` on the
 * standard one (DESIGN §3), so the body's `statusCode` wins over the HTTP status.
 */
export function storageError(status: number, body: unknown): StorageTransferError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const effective = Number(b.statusCode ?? status) || status;
  const text = typeof b.message === 'string' ? b.message : typeof body === 'string' ? body : `HTTP ${status}`;
  const named = String(b.code ?? b.error ?? '');
  const storageCode: StorageErrorCode =
    effective === 403 || named === 'AccessDenied' || named === 'Unauthorized'
      ? 'AccessDenied'
      : effective === 409 || named === 'Duplicate'
        ? 'Duplicate'
        : effective === 413 || named === 'EntityTooLarge'
          ? 'EntityTooLarge'
          : effective === 415 || named === 'InvalidMimeType'
            ? 'InvalidMimeType'
            : named === 'NoSuchUpload'
              ? 'NoSuchUpload'
              : effective === 404
                ? 'NoSuchBucket'
                : effective >= 500 || effective === 423 || effective === 429
                  ? 'InternalError'
                  : 'InvalidRequest';
  const next: Record<StorageErrorCode, string> = {
    AccessDenied: 'Storage refused the object: register the file and begin the upload first.',
    Duplicate: 'The object already exists; finalize will check it.',
    EntityTooLarge: 'Choose a smaller file.',
    InvalidMimeType: 'Choose a file of an allowed type.',
    NoSuchBucket: 'The bucket of this kind does not exist; check the kind configuration.',
    NoSuchUpload: 'The resumable upload expired; it will start again.',
    InvalidRequest: 'The request was refused; check the file.',
    InternalError: 'Storage is unavailable; the upload will be retried.',
    Aborted: '',
    NetworkError: '',
  };
  return new StorageTransferError({
    message: `${text} (${storageCode}). ${next[storageCode]}`.trim(),
    status,
    storageCode,
    retryable: storageCode === 'InternalError' || storageCode === 'NoSuchUpload',
    cause: body,
  });
}

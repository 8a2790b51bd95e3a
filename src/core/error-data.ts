/**
 * Errors as snapshot data: a snapshot must stay plain JSON (persisted, sent to devtools), yet a UI
 * must get back the typed error it would have caught — same class, same `code`, same fields
 * (`storageCode`, `retryable`, `status`, `sqlstate`). `serializeError` keeps what `toJSON()` says;
 * `deserializeError` rebuilds the class from it.
 */
import {
  MalformedAnswerError,
  MissingSourceError,
  ProcessingFailedError,
  UnknownUserError,
  UploadLifecycleError,
  isUploadLifecycleError,
  toUploadLifecycleError,
  type UploadErrorCode,
} from '../errors.js';
import { StorageTransferError, type StorageErrorCode } from './port.js';

/** An error as it sits in a snapshot: plain data, JSON-safe. */
export interface SerializedUploadError {
  name: string;
  code: UploadErrorCode;
  message: string;
  detail?: string | undefined;
  hint?: string | undefined;
  /** The original SQLSTATE or PostgREST code (database errors). */
  sqlstate?: string | undefined;
  /** HTTP status, Storage's code and whether a retry may help (transfer errors). */
  status?: number | undefined;
  storageCode?: StorageErrorCode | undefined;
  retryable?: boolean | undefined;
}

/** The snapshot form of any error; typed errors keep every field of their `toJSON()`. */
export function serializeError(error: unknown): SerializedUploadError {
  if (isUploadLifecycleError(error)) {
    const json = error.toJSON() as SerializedUploadError;
    return Object.fromEntries(
      Object.entries(json).filter(([, v]) => v !== undefined),
    ) as unknown as SerializedUploadError;
  }
  return {
    name: error instanceof Error ? error.name : 'Error',
    code: 'UL000',
    message: error instanceof Error ? error.message : String(error),
  };
}

/** The typed error a serialized one stands for: `StorageTransferError`, `UL00x` classes, … */
export function deserializeError(data: SerializedUploadError): UploadLifecycleError {
  if (data.storageCode !== undefined) {
    return new StorageTransferError({
      message: data.message,
      detail: data.detail,
      hint: data.hint,
      status: data.status ?? 0,
      storageCode: data.storageCode,
      retryable: data.retryable ?? false,
    });
  }
  const init = { message: data.message, detail: data.detail, hint: data.hint, sqlstate: data.sqlstate };
  if (data.name === 'MalformedAnswerError') return new MalformedAnswerError(init);
  if (data.name === 'MissingSourceError') return new MissingSourceError(init);
  if (data.name === 'UnknownUserError') return new UnknownUserError(init);
  if (data.name === 'ProcessingFailedError') return new ProcessingFailedError(init);
  const typed = toUploadLifecycleError({
    code: data.code === 'UL000' ? (data.sqlstate ?? 'UL000') : data.code,
    message: data.message,
    detail: data.detail,
    hint: data.hint,
  });
  // The class comes from the code; a plain UL000 keeps the name it had (e.g. a network TypeError).
  if (typed.code === 'UL000' && data.name !== typed.name) {
    Object.defineProperty(typed, 'name', { value: data.name, enumerable: true, writable: true });
  }
  return typed;
}

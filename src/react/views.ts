/**
 * What components read: per-file views and typed errors derived from the machine's snapshot.
 * Both are memoized by the identity of the snapshot object they come from, so an unchanged file
 * keeps an identical view and a selector over it returns the same value (no re-render).
 */
import type { UploadLifecycleError } from '../errors.js';
import { deserializeError, type SerializedUploadError } from '../core/error-data.js';
import type { FileUploadStatus, UploadFileEntry } from '../machines/upload-files.js';

/** One file as a UI shows it. */
export interface UploadFileView {
  /** Stable local id: pass it to `removeFile` / `retryFile`. */
  key: string;
  name: string;
  size: number;
  slot: string;
  type: string;
  /** Bytes acknowledged by Storage. */
  bytesSent: number;
  /** 0…1. */
  progress: number;
  state: FileUploadStatus;
  error: UploadLifecycleError | null;
}

const views = new WeakMap<UploadFileEntry, UploadFileView>();
const errors = new WeakMap<SerializedUploadError, UploadLifecycleError>();

/**
 * The typed error of a serialized one — the class it was thrown as (`StorageTransferError` with
 * its `storageCode`/`retryable`/`status`, `UL001`…`UL006`, …); same input, same object.
 */
export function typedError(error: SerializedUploadError | null): UploadLifecycleError | null {
  if (!error) return null;
  let typed = errors.get(error);
  if (!typed) {
    typed = deserializeError(error);
    errors.set(error, typed);
  }
  return typed;
}

export function fileView(entry: UploadFileEntry): UploadFileView {
  let view = views.get(entry);
  if (!view) {
    const bytesSent = Math.min(entry.bytesSent, entry.size);
    view = {
      key: entry.key,
      name: entry.name,
      size: entry.size,
      slot: entry.slot,
      type: entry.type,
      bytesSent,
      progress: entry.status === 'uploaded' ? 1 : entry.size > 0 ? bytesSent / entry.size : 0,
      state: entry.status,
      error: typedError(entry.error),
    };
    views.set(entry, view);
  }
  return view;
}

export function shallowEqualArrays<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => Object.is(item, b[i]));
}

/**
 * What components read: per-file views and typed errors derived from the machine's snapshot.
 * Both are memoized by the identity of the snapshot object they come from, so an unchanged file
 * keeps an identical view and a selector over it returns the same value (no re-render).
 */
import { toUploadLifecycleError, type UploadLifecycleError } from '../errors.js';
import type { FileUploadStatus } from '../machines/file-upload.js';
import type { UploadFileEntry } from '../machines/upload-files.js';
import type { SerializedUploadError } from '../machines/upload-retry.js';

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

/** The typed error (`code` UL001…UL006, or UL000) of a serialized one; same input, same object. */
export function typedError(error: SerializedUploadError | null): UploadLifecycleError | null {
  if (!error) return null;
  let typed = errors.get(error);
  if (!typed) {
    typed = toUploadLifecycleError({
      code: error.code,
      message: error.message,
      detail: error.detail,
      hint: error.hint,
    });
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

/**
 * The upload machine's per-file bookkeeping: pure functions over its serializable file entries.
 */
import type { ByteSource, FileRequirement, UploadState } from '../adapters/backend.js';
import type { FileUpdateEvent, FileUploadStatus } from './file-upload.js';
import type { SerializedUploadError } from './upload-retry.js';

/** One file of an upload, as the snapshot holds it (no bytes: those stay outside). */
export interface UploadFileEntry {
  /** Local id, stable across reloads; the child actor is `file:{key}`. */
  key: string;
  slot: string;
  name: string;
  size: number;
  type: string;
  sha256: string | null;
  /** Set once `register_upload_file` answered. */
  fileId: string | null;
  bucketId: string | null;
  objectPath: string | null;
  status: FileUploadStatus;
  bytesSent: number;
  failures: number;
  error: SerializedUploadError | null;
  /** The object in Storage does not match the registration: the next transfer replaces it. */
  replace?: boolean;
}

/** A file handed to ADD_FILES. `name`/`type` default to the `File`'s own. */
export interface AddedFile {
  slot: string;
  body: ByteSource;
  name?: string;
  type?: string;
  sha256?: string | null;
  /** A key of your own (e.g. to re-attach the bytes after a reload); default `f{n}`. */
  key?: string;
}

export function sizeOf(body: ByteSource): number {
  return body instanceof Uint8Array ? body.byteLength : body.size;
}

/** The entries ADD_FILES creates; keys continue the context's sequence. */
export function entriesFor(files: readonly AddedFile[], sequence: number): UploadFileEntry[] {
  return files.map((file, i) => ({
    key: file.key ?? `f${sequence + i + 1}`,
    slot: file.slot,
    name: file.name ?? (file.body as { name?: string }).name ?? `file-${sequence + i + 1}`,
    size: sizeOf(file.body),
    type: (file.type ?? (file.body as { type?: string }).type ?? '') || 'application/octet-stream',
    sha256: file.sha256 ?? null,
    fileId: null,
    bucketId: null,
    objectPath: null,
    status: 'pending',
    bytesSent: 0,
    failures: 0,
    error: null,
  }));
}

/** Statuses that hold a concurrency slot. */
export const ACTIVE_STATUSES: readonly FileUploadStatus[] = ['registering', 'uploading', 'retrying'];

export function applyFileUpdate(
  files: readonly UploadFileEntry[],
  update: FileUpdateEvent,
): UploadFileEntry[] {
  return files.map((f) =>
    f.key === update.key
      ? {
          ...f,
          status: update.status,
          bytesSent: update.bytesSent,
          failures: update.failures,
          fileId: update.fileId,
          bucketId: update.bucketId,
          objectPath: update.objectPath,
          error: update.error,
        }
      : f,
  );
}

/** The queued files that may start now without exceeding `concurrency`. */
export function nextToRun(files: readonly UploadFileEntry[], concurrency: number): UploadFileEntry[] {
  const active = files.filter((f) => ACTIVE_STATUSES.includes(f.status)).length;
  return files.filter((f) => f.status === 'queued').slice(0, Math.max(0, concurrency - active));
}

export const allUploaded = (files: readonly UploadFileEntry[]) => files.every((f) => f.status === 'uploaded');

/** Every file has come to rest and at least one is in error. */
export const settledWithError = (files: readonly UploadFileEntry[]) =>
  files.some((f) => f.status === 'error') &&
  files.every((f) => f.status === 'uploaded' || f.status === 'error');

/**
 * Merges what the database knows (`get_upload_state`) into the local entries: a file whose
 * object is in Storage with matching size and type is `uploaded` and is not sent again; a local
 * file that lost its registration answer is matched to the database row by slot, name, size and
 * type; a database file with no local entry appears so the UI can show it.
 */
export function reconcileFiles(files: readonly UploadFileEntry[], state: UploadState): UploadFileEntry[] {
  const claimed = new Set<string>();
  const merged = files.map((entry): UploadFileEntry => {
    const row =
      state.files.find((f) => entry.fileId !== null && f.fileId === entry.fileId) ??
      (entry.fileId === null
        ? state.files.find(
            (f) =>
              !files.some((e) => e.fileId === f.fileId) &&
              !claimed.has(f.fileId) &&
              f.slot === entry.slot &&
              f.originalName === entry.name &&
              f.declaredSize === entry.size &&
              f.declaredMime === entry.type,
          )
        : undefined);
    if (!row) {
      return { ...entry, fileId: null, bucketId: null, objectPath: null, status: 'pending', bytesSent: 0 };
    }
    claimed.add(row.fileId);
    const present = row.objectExists && row.objectMatches;
    return {
      ...entry,
      fileId: row.fileId,
      bucketId: row.bucketId,
      objectPath: row.objectPath,
      status: present ? 'uploaded' : 'pending',
      bytesSent: present ? entry.size : 0,
      error: null,
      replace: row.objectExists && !row.objectMatches,
    };
  });
  const unknown = state.files
    .filter((f) => !claimed.has(f.fileId))
    .map((f): UploadFileEntry => ({
      key: `db-${f.fileId}`,
      slot: f.slot,
      name: f.originalName,
      size: f.declaredSize,
      type: f.declaredMime,
      sha256: f.sha256,
      fileId: f.fileId,
      bucketId: f.bucketId,
      objectPath: f.objectPath,
      status: f.objectExists && f.objectMatches ? 'uploaded' : 'pending',
      bytesSent: f.objectExists && f.objectMatches ? f.declaredSize : 0,
      failures: 0,
      error: null,
      replace: f.objectExists && !f.objectMatches,
    }));
  return [...merged, ...unknown];
}

export type { FileRequirement };

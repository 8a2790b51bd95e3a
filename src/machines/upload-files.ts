/**
 * The one owner of per-file state: pure functions from (entries, what happened) to entries. The
 * upload machine calls them from its actions and nothing else writes a file's status, so a
 * file's life can be read here top to bottom:
 *
 *   pending ──register──▶ registering ──answer──▶ queued ──slot──▶ uploading ──▶ uploaded
 *      │                                           ▲   │               │  │
 *      │ (bytes gone: reload)                      │   └─ detached ◀───┘  ├──▶ retrying ──due──▶ queued
 *      └──────────────▶ detached ──RESUME(bytes)───┘                      └──▶ error ──RETRY_FILE──▶ queued
 *
 * Why no child machine per file: a child owns its status, the parent mirrors it for the UI and
 * the snapshot, and the two drift (five writers of a status in the parent, a sixth in the child).
 * Here the parent owns it; a transfer is a stateless callback actor that only reports bytes.
 */
import type { ByteSource, FileRegistration, FileRequirement, UploadState } from '../core/port.js';
import { InvalidFileError } from '../errors.js';
import { serializeError, type SerializedUploadError } from '../core/error-data.js';
import { checkFile, checkRoom } from './upload-validate.js';

/**
 * A file's status. `pending`: not registered yet; `registering`: in a registration call in
 * flight; `queued`: registered, waiting for a transfer slot; `uploading`: bytes on the wire;
 * `retrying`: waiting out a backoff; `uploaded`: Storage acknowledged it (finalize verifies);
 * `error`: refused or out of tries (RETRY_FILE / RETRY); `detached`: its bytes are not here (a
 * reload) — RESUME with `sources: { [key]: file }` brings it back.
 */
export type FileUploadStatus =
  'pending' | 'registering' | 'queued' | 'uploading' | 'retrying' | 'uploaded' | 'error' | 'detached';

/** One file of an upload, as the snapshot holds it (no bytes: those stay outside). */
export interface UploadFileEntry {
  /** The client's key: stable across reloads, sent as `file_key` (registration is idempotent by it). */
  key: string;
  slot: string;
  name: string;
  size: number;
  type: string;
  sha256: string | null;
  /** Set once the database registered the file. */
  fileId: string | null;
  bucketId: string | null;
  objectPath: string | null;
  status: FileUploadStatus;
  bytesSent: number;
  /** Failed tries of the current run; reset by RETRY_FILE and RETRY. */
  failures: number;
  error: SerializedUploadError | null;
  /** The object in Storage does not match the registration: the next transfer replaces it. */
  replace?: boolean;
}

/** A file removed locally whose database row may exist: removed once its id is known. */
export interface FileRemoval {
  key: string;
  /** `null` while its registration is in flight. */
  fileId: string | null;
}

/** A file handed to ADD_FILES. `name`/`type` default to the `File`'s own. */
export interface AddedFile {
  slot: string;
  body: ByteSource;
  name?: string;
  type?: string;
  sha256?: string | null;
  /** A key of your own (unique in the upload; e.g. to re-attach the bytes after a reload). Default `f{n}`. */
  key?: string;
}

export function sizeOf(body: ByteSource): number {
  return body instanceof Uint8Array ? body.byteLength : body.size;
}

/** The entries ADD_FILES creates; default keys continue the context's sequence. */
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

/** The outcome of ADD_FILES: files accepted one by one, and the refused ones with their reason. */
export interface FileAcceptance {
  accepted: UploadFileEntry[];
  /** Index in the event's `files` of each refused file, with the typed error naming it. */
  refused: { index: number; error: InvalidFileError }[];
}

/** Names the file in a refusal (a typed error, or one already serialized), so a batch's error says which file it is about. */
export function aboutFile(name: string, error: unknown): SerializedUploadError {
  const data = error instanceof Error ? serializeError(error) : (error as SerializedUploadError);
  return { ...data, message: `${name}: ${data.message}` };
}

/**
 * Checks each added file on its own, in order, against the files already there: a duplicate key
 * is refused; with known requirements, so is a bad file or one too many for its slot. The good
 * files of a batch are accepted even when another is refused.
 */
export function acceptFiles(
  existing: readonly UploadFileEntry[],
  added: readonly UploadFileEntry[],
  requirements: readonly FileRequirement[] | null,
): FileAcceptance {
  const accepted: UploadFileEntry[] = [];
  const refused: FileAcceptance['refused'] = [];
  added.forEach((entry, index) => {
    const all = [...existing, ...accepted];
    let error: InvalidFileError | null = null;
    if (all.some((f) => f.key === entry.key)) {
      error = new InvalidFileError({
        message: `a file with key ${entry.key} is already in this upload`,
        hint: 'Give each file its own key, or remove the other file first.',
      });
    } else if (requirements) {
      error = checkFile(entry, requirements) ?? checkRoom(all, entry.slot, requirements);
    }
    if (error) refused.push({ index, error });
    else accepted.push(entry);
  });
  return { accepted, refused };
}

/** The first refusal of an acceptance as the machine's error, naming the file. */
export function refusalError(files: readonly UploadFileEntry[], acceptance: FileAcceptance) {
  const first = acceptance.refused[0];
  return first ? aboutFile(files[first.index]!.name, first.error) : null;
}

/**
 * Once the requirements are known (the draft's answer), files added before them are checked:
 * a bad file gets its own error and the `error` status; the good ones stay as they are.
 */
export function checkAgainst(
  files: readonly UploadFileEntry[],
  requirements: readonly FileRequirement[],
): UploadFileEntry[] {
  const kept: UploadFileEntry[] = [];
  return files.map((f) => {
    if (f.status !== 'pending' && f.status !== 'detached') return f;
    const problem = checkFile(f, requirements) ?? checkRoom(kept, f.slot, requirements);
    if (problem) return { ...f, status: 'error', error: serializeError(problem) };
    kept.push(f);
    return f;
  });
}

/** A file refused before registration (bad input): it cannot be uploaded, only removed. */
export const invalidBeforeRegistration = (f: UploadFileEntry) => f.status === 'error' && f.fileId === null;

/** The first file-level problem, naming the file; null when none. */
export function firstFileError(files: readonly UploadFileEntry[]): SerializedUploadError | null {
  const bad = files.find((f) => f.error !== null);
  return bad ? { ...bad.error!, message: `${bad.name}: ${bad.error!.message}` } : null;
}

/** Files not registered yet (known locally, bytes here or not). */
export const unregistered = (files: readonly UploadFileEntry[]) =>
  files.filter((f) => f.fileId === null && (f.status === 'pending' || f.status === 'detached'));

/** What the registration RPCs take for these files. */
export function registrationsOf(files: readonly UploadFileEntry[]): FileRegistration[] {
  return files.map((f) => ({
    key: f.key,
    slot: f.slot,
    filename: f.name,
    size: f.size,
    mime: f.type,
    sha256: f.sha256,
  }));
}

export function markRegistering(
  files: readonly UploadFileEntry[],
  keys: readonly string[],
): UploadFileEntry[] {
  return files.map((f) => (keys.includes(f.key) ? { ...f, status: 'registering' } : f));
}

/** A registration call failed: its files are unregistered again (or, when named, in error). */
export function registrationFailed(
  files: readonly UploadFileEntry[],
  hasBytes: (key: string) => boolean,
  bad?: { key: string; error: SerializedUploadError },
): UploadFileEntry[] {
  return files.map((f) => {
    if (bad && f.key === bad.key) return { ...f, status: 'error', error: bad.error };
    if (f.status !== 'registering') return f;
    return { ...f, status: hasBytes(f.key) ? 'pending' : 'detached' };
  });
}

/** Index `i` of a batch refusal `files[i]: …` (UL004 from the batch RPCs), or null. */
export function batchIndexOf(error: SerializedUploadError): number | null {
  const match = /^files\[(\d+)\]: /.exec(error.message);
  return match ? Number(match[1]) : null;
}

export interface ApplyStateOptions {
  /** Files in `error` are queued again (a new attempt: `retry_upload`). */
  requeueErrors?: boolean;
}

/**
 * Merges the database's word (an `UploadState`) into the local files and removals, by key:
 * - a local file the database has: its registration; `uploaded` when the stored object matches,
 *   otherwise `queued` (its bytes here) or `detached` (not here); in-flight work is kept;
 * - a local file the database lacks: unregistered again (`pending`/`detached`), or kept as it was
 *   when it was never registered;
 * - a database file with no local entry: listed under its key — unless it was removed locally,
 *   then its removal learns the file id;
 * - a removal whose row is gone is done.
 */
export function applyState(
  files: readonly UploadFileEntry[],
  removals: readonly FileRemoval[],
  state: UploadState,
  hasBytes: (key: string) => boolean,
  options: ApplyStateOptions = {},
): { files: UploadFileEntry[]; removals: FileRemoval[] } {
  const rows = new Map(state.files.map((row) => [row.key, row]));
  const waiting = (key: string): UploadFileEntry['status'] => (hasBytes(key) ? 'queued' : 'detached');
  const merged = files.map((entry): UploadFileEntry => {
    const row = rows.get(entry.key);
    if (!row) {
      if (entry.fileId === null && entry.status !== 'registering') return entry;
      return {
        ...entry,
        fileId: null,
        bucketId: null,
        objectPath: null,
        status: hasBytes(entry.key) ? 'pending' : 'detached',
        bytesSent: 0,
      };
    }
    const present = row.objectExists && row.objectMatches;
    const registered = {
      ...entry,
      fileId: row.fileId,
      bucketId: row.bucketId,
      objectPath: row.objectPath,
      replace: row.objectExists && !row.objectMatches,
    };
    if (present) return { ...registered, status: 'uploaded', bytesSent: entry.size, error: null };
    if (entry.status === 'error' && !options.requeueErrors) return registered;
    if (entry.status === 'uploading' || entry.status === 'retrying') return registered;
    return { ...registered, status: waiting(entry.key), bytesSent: 0, failures: 0, error: null };
  });
  const local = new Set(files.map((f) => f.key));
  const removedKeys = new Set(removals.map((r) => r.key));
  const listed = state.files
    .filter((row) => !local.has(row.key) && !removedKeys.has(row.key))
    .map((row): UploadFileEntry => {
      const present = row.objectExists && row.objectMatches;
      return {
        key: row.key,
        slot: row.slot,
        name: row.originalName,
        size: row.declaredSize,
        type: row.declaredMime,
        sha256: row.sha256,
        fileId: row.fileId,
        bucketId: row.bucketId,
        objectPath: row.objectPath,
        status: present ? 'uploaded' : waiting(row.key),
        bytesSent: present ? row.declaredSize : 0,
        failures: 0,
        error: null,
        replace: row.objectExists && !row.objectMatches,
      };
    });
  const pendingRemovals = removals.flatMap((r) => {
    const row = rows.get(r.key);
    return row ? [{ key: r.key, fileId: row.fileId }] : [];
  });
  return { files: [...merged, ...listed], removals: pendingRemovals };
}

/**
 * REMOVE_FILE: the entry goes at once; a registered (or registering) file leaves a removal for
 * its row.
 */
export function removeFile(
  files: readonly UploadFileEntry[],
  removals: readonly FileRemoval[],
  key: string,
): { files: UploadFileEntry[]; removals: FileRemoval[] } {
  const entry = files.find((f) => f.key === key);
  if (!entry) return { files: [...files], removals: [...removals] };
  const needsRemoval = entry.fileId !== null || entry.status === 'registering';
  return {
    files: files.filter((f) => f.key !== key),
    removals: needsRemoval ? [...removals, { key, fileId: entry.fileId }] : [...removals],
  };
}

/** Removals done (`remove_upload_file` answered, or the row was already gone). */
export function removalsDone(removals: readonly FileRemoval[], fileIds: readonly string[]): FileRemoval[] {
  return removals.filter((r) => r.fileId === null || !fileIds.includes(r.fileId));
}

const update = (
  files: readonly UploadFileEntry[],
  key: string,
  fn: (f: UploadFileEntry) => UploadFileEntry,
) => files.map((f) => (f.key === key ? fn(f) : f));

/** Statuses that hold a transfer slot. */
export const ACTIVE_STATUSES: readonly FileUploadStatus[] = ['uploading', 'retrying'];

/** The queued files that may start now without exceeding `concurrency`. */
export function nextToRun(files: readonly UploadFileEntry[], concurrency: number): UploadFileEntry[] {
  const active = files.filter((f) => ACTIVE_STATUSES.includes(f.status)).length;
  return files.filter((f) => f.status === 'queued').slice(0, Math.max(0, concurrency - active));
}

export const markUploading = (files: readonly UploadFileEntry[], keys: readonly string[]) =>
  files.map((f) => (keys.includes(f.key) ? { ...f, status: 'uploading' as const, bytesSent: 0 } : f));

export const transferProgress = (files: readonly UploadFileEntry[], key: string, bytesSent: number) =>
  update(files, key, (f) => (f.status === 'uploading' ? { ...f, bytesSent } : f));

export const transferDone = (files: readonly UploadFileEntry[], key: string) =>
  update(files, key, (f) =>
    f.status === 'uploading'
      ? { ...f, status: 'uploaded', bytesSent: f.size, error: null, replace: false }
      : f,
  );

/** What a failed transfer leads to, decided by the machine's retry policy. */
export type TransferOutcome = 'uploaded' | 'queued' | 'retrying' | 'error' | 'detached';

export const transferFailed = (
  files: readonly UploadFileEntry[],
  key: string,
  outcome: TransferOutcome,
  error: SerializedUploadError,
) =>
  update(files, key, (f): UploadFileEntry => {
    if (f.status !== 'uploading') return f;
    switch (outcome) {
      case 'uploaded':
        return { ...f, status: 'uploaded', bytesSent: f.size, error: null };
      case 'queued':
        return { ...f, status: 'queued', bytesSent: 0 };
      case 'detached':
        return { ...f, status: 'detached', bytesSent: 0, error: null };
      default:
        return { ...f, status: outcome, failures: f.failures + 1, error };
    }
  });

export const retryDue = (files: readonly UploadFileEntry[], key: string) =>
  update(files, key, (f) => (f.status === 'retrying' ? { ...f, status: 'queued' } : f));

/** RETRY_FILE: a file in error tries again from zero failures. */
export const retryFile = (files: readonly UploadFileEntry[], key: string, hasBytes: boolean) =>
  update(files, key, (f): UploadFileEntry =>
    f.status === 'error'
      ? {
          ...f,
          status: !hasBytes ? 'detached' : f.fileId === null ? 'pending' : 'queued',
          failures: 0,
          error: null,
        }
      : f,
  );

/** Bytes re-attached (RESUME): a detached file can go on. */
export const attach = (files: readonly UploadFileEntry[], hasBytes: (key: string) => boolean) =>
  files.map((f) =>
    f.status === 'detached' && hasBytes(f.key)
      ? { ...f, status: f.fileId === null ? ('pending' as const) : ('queued' as const) }
      : f,
  );

/** Leaving `uploading`: transfers stop; their files wait as `queued` (or `detached`). */
export const stopTransfers = (files: readonly UploadFileEntry[]) =>
  files.map((f) =>
    f.status === 'uploading' || f.status === 'retrying' ? { ...f, status: 'queued' as const } : f,
  );

export const allUploaded = (files: readonly UploadFileEntry[]) => files.every((f) => f.status === 'uploaded');

/** Every file has come to rest and at least one is in error. */
export const settledWithError = (files: readonly UploadFileEntry[]) =>
  files.some((f) => f.status === 'error') &&
  files.every((f) => f.status === 'uploaded' || f.status === 'error');

/** Nothing can move without the user: some file needs its bytes and no file is on its way. */
export const waitingForSources = (files: readonly UploadFileEntry[]) =>
  files.some((f) => f.status === 'detached') &&
  !files.some((f) => ['queued', 'uploading', 'retrying', 'registering', 'pending'].includes(f.status));

export type { FileRequirement };

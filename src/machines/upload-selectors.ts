/**
 * Read-side of the upload machine: selectors for UIs (`useSelector(actor, selectProgress)`) and
 * the persistence helper for page-reload resume. All pure functions of a snapshot.
 */
import type { Snapshot, SnapshotFrom } from 'xstate';
import type { UploadJob } from '../core/port.js';
import type { UploadStatus } from '../core/status.js';
import type { SerializedUploadError } from '../core/error-data.js';
import { UPLOAD_PHASES, type UploadPhase } from './upload-events.js';
import type { UploadFileEntry } from './upload-files.js';
import type { UploadContext, UploadMachine, UploadStateMeta } from './upload.js';

/** A snapshot of the upload machine, as selectors read it. */
export type UploadSnapshot = SnapshotFrom<UploadMachine>;

export { UPLOAD_PHASES, type UploadPhase };

/** The top-level state, e.g. `'uploading'` (also while `finalizing.backoff`). */
export function selectPhase(snapshot: UploadSnapshot): UploadPhase {
  const value = snapshot.value;
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as UploadPhase;
}

/** The database status the current state stands for (`null`: no row yet, or not yet known). */
export function selectDatabaseStatus(snapshot: UploadSnapshot): UploadStatus | null {
  const meta = snapshot.getMeta() as Record<string, UploadStateMeta | undefined>;
  return meta[`upload.${selectPhase(snapshot)}`]?.status ?? null;
}

/** Bytes sent and total over all files, and their fraction. */
export interface UploadProgress {
  bytesSent: number;
  bytesTotal: number;
  /** 0…1: bytes acknowledged over bytes to send; 0 before any file, 1 once completed. */
  fraction: number;
  filesUploaded: number;
  filesTotal: number;
}

/** Overall progress over all files, in bytes acknowledged by Storage. */
export function selectProgress(snapshot: UploadSnapshot): UploadProgress {
  const files = snapshot.context.files;
  const bytesTotal = files.reduce((n, f) => n + f.size, 0);
  const bytesSent = files.reduce((n, f) => n + Math.min(f.bytesSent, f.size), 0);
  const filesUploaded = files.filter((f) => f.status === 'uploaded').length;
  return {
    bytesSent,
    bytesTotal,
    fraction: selectPhase(snapshot) === 'completed' ? 1 : bytesTotal === 0 ? 0 : bytesSent / bytesTotal,
    filesUploaded,
    filesTotal: files.length,
  };
}

/** The files of the upload, in the order they were added. */
export const selectFiles = (snapshot: UploadSnapshot): UploadFileEntry[] => snapshot.context.files;
/** The entity id once the database created it, else null. */
export const selectEntityId = (snapshot: UploadSnapshot): string | null => snapshot.context.entityId;
/** The last error, serialisable, or null. */
export const selectError = (snapshot: UploadSnapshot): SerializedUploadError | null => snapshot.context.error;

/** The files whose bytes must be given again (`RESUME` with `sources`), e.g. after a reload. */
export const selectFilesNeedingSource = (snapshot: UploadSnapshot): UploadFileEntry[] =>
  snapshot.context.files.filter((f) => f.status === 'detached');

/** One processing job of a file, as a UI shows it. */
export interface FileJob {
  processor: string;
  status: UploadJob['status'];
  /** The entity completes only once every required job is complete. */
  required: boolean;
  attempt: number;
  maxAttempts: number;
  /** What the worker stored about the last failure, or null. */
  lastError: unknown;
  /** The variants it stored (a thumbnail): bucket, path, size, type; empty until it is complete. */
  artifacts: UploadJob['artifacts'];
}

/**
 * The processing jobs of the current attempt per file key (files without jobs are absent), as the
 * database last reported them: watch them while `processing`, or read why it `failed`.
 */
export function selectJobs(snapshot: UploadSnapshot): Record<string, FileJob[]> {
  const { jobs, files } = snapshot.context;
  const byKey: Record<string, FileJob[]> = {};
  for (const job of jobs ?? []) {
    const key = files.find((f) => f.fileId === job.fileId)?.key ?? job.fileId;
    (byKey[key] ??= []).push({
      processor: job.processor,
      status: job.status,
      required: job.required,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      lastError: job.lastError,
      artifacts: job.artifacts ?? [],
    });
  }
  return byKey;
}

/**
 * Whether the machine is working on its own (a call in flight, a transfer running, a backoff
 * pending): a spinner, disabled buttons. When it is not, it waits for the user (or is done).
 */
export function selectIsBusy(snapshot: UploadSnapshot): boolean {
  const phase = selectPhase(snapshot);
  if (phase === 'uploading') {
    return (
      !snapshot.matches({ uploading: 'running' }) ||
      snapshot.context.files.some((f) =>
        ['pending', 'registering', 'queued', 'uploading', 'retrying'].includes(f.status),
      )
    );
  }
  return [
    'creating',
    'starting',
    'finalizing',
    'processing',
    'cancelling',
    'failing',
    'retrying',
    'loading',
    'discarding',
  ].includes(phase);
}

/** A persisted upload snapshot: plain JSON, safe for localStorage. */
export type PersistedUpload = Snapshot<unknown> & {
  value: unknown;
  context: UploadContext;
  children: object;
};

/**
 * The snapshot to store for resuming after a reload. In-flight work is not persisted, and bytes
 * never are: an upload the database is processing comes back `processing` (watching again); any
 * other upload with an entity comes back `suspended` (send RESUME with the files' bytes
 * to continue: `loading` asks `get_upload_state` and only missing objects are sent); one without
 * an entity comes back `idle` with its files and idempotency key, so CREATE returns the same
 * draft. Files not yet uploaded come back `detached` (they need their bytes); files removed while
 * their registration was in flight are still removed once the database is read.
 *
 * @example
 * ```ts
 * localStorage.setItem('upload', JSON.stringify(persistUpload(actor.getPersistedSnapshot())));
 * // after the reload:
 * const actor = createActor(machine, { snapshot: JSON.parse(localStorage.getItem('upload')!), input: {} }).start();
 * actor.send({ type: 'RESUME', sources: { f1: file } });
 * ```
 */
export function persistUpload(persisted: Snapshot<unknown>): PersistedUpload {
  const snapshot = JSON.parse(JSON.stringify(persisted)) as PersistedUpload;
  // Final phases stay where they are: a completed upload is complete, a discarded one is gone.
  if (snapshot.value === 'completed' || snapshot.value === 'discarded')
    return { ...snapshot, status: 'active', children: {} } as PersistedUpload;
  // Processing: the database works, the client only watches. The watch restarts on restore (its
  // input, the entity id, is in its snapshot), so it comes back processing, without RESUME.
  const watch = (snapshot.children as Record<string, unknown>).watchUpload;
  if (snapshot.value === 'processing' && watch)
    return { ...snapshot, status: 'active', children: { watchUpload: watch } } as PersistedUpload;
  const context = snapshot.context;
  const discard = context.discardRequested || snapshot.value === 'discarding';
  if (discard && !context.entityId) {
    // Discarded before any entity was known: nothing to delete, the files are forgotten.
    return {
      ...snapshot,
      status: 'active',
      value: 'discarded',
      children: {},
      context: { ...context, files: [], removals: [], discardRequested: false, idempotencyKey: null },
    } as PersistedUpload;
  }
  const files = context.files.map((f) =>
    f.status === 'uploaded' || f.status === 'error' ? f : { ...f, status: 'detached' as const, bytesSent: 0 },
  );
  return {
    ...snapshot,
    status: 'active',
    value: context.entityId ? 'suspended' : 'idle',
    children: {},
    // A cancel on its way when the page went stays on its way.
    context: {
      ...context,
      files,
      cancelRequested: context.cancelRequested || snapshot.value === 'cancelling',
      // So is a discard: the restored machine deletes the entity (again: UL003 means done).
      discardRequested: discard,
    },
  } as PersistedUpload;
}

/**
 * Read-side of the upload machine: selectors for UIs (`useSelector(actor, selectProgress)`) and
 * the persistence helper for page-reload resume. All pure functions of a snapshot.
 */
import type { Snapshot, SnapshotFrom } from 'xstate';
import type { UploadStatus } from './lifecycle.js';
import type { UploadFileEntry } from './upload-files.js';
import type { SerializedUploadError } from './upload-retry.js';
import type { UploadContext, UploadMachine, UploadStateMeta } from './upload.js';

export type UploadSnapshot = SnapshotFrom<UploadMachine>;

/** The machine's top-level states. */
export const UPLOAD_PHASES = [
  'idle',
  'creating',
  'draft',
  'starting',
  'uploading',
  'finalizing',
  'completed',
  'cancelling',
  'failing',
  'failed',
  'retrying',
  'loading',
  'suspended',
] as const;
export type UploadPhase = (typeof UPLOAD_PHASES)[number];

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

export interface UploadProgress {
  bytesSent: number;
  bytesTotal: number;
  /** 0…1; 1 for an upload without files once they are all uploaded. */
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
    fraction: bytesTotal === 0 ? (filesUploaded === files.length ? 1 : 0) : bytesSent / bytesTotal,
    filesUploaded,
    filesTotal: files.length,
  };
}

export const selectFiles = (snapshot: UploadSnapshot): UploadFileEntry[] => snapshot.context.files;
export const selectEntityId = (snapshot: UploadSnapshot): string | null => snapshot.context.entityId;
export const selectError = (snapshot: UploadSnapshot): SerializedUploadError | null => snapshot.context.error;

/** Whether a request is in flight (a spinner, disabled buttons). */
export function selectIsBusy(snapshot: UploadSnapshot): boolean {
  return [
    'creating',
    'starting',
    'uploading',
    'finalizing',
    'cancelling',
    'failing',
    'retrying',
    'loading',
  ].includes(selectPhase(snapshot));
}

/** A persisted upload snapshot: plain JSON, safe for localStorage. */
export type PersistedUpload = Snapshot<unknown> & {
  value: unknown;
  context: UploadContext;
  children: object;
};

/**
 * The snapshot to store for resuming after a reload. In-flight work is not persisted: an upload
 * with an entity comes back `suspended` (send RESUME with the files' bytes to continue: `loading`
 * asks `get_upload_state` and only missing objects are sent); one without an entity comes back
 * `idle` with its files and idempotency key, so CREATE returns the same draft.
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
  if (snapshot.status === 'done') return snapshot;
  const context = snapshot.context;
  const files = context.files.map((f) =>
    f.status === 'uploaded' || f.status === 'error' ? f : { ...f, status: 'pending' as const },
  );
  return {
    ...snapshot,
    status: 'active',
    value: context.entityId ? 'suspended' : 'idle',
    children: {},
    context: { ...context, files },
  } as PersistedUpload;
}

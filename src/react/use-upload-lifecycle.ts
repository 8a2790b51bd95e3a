/**
 * `useUploadLifecycle()`: the upload machine as a React hook, plus selector hooks so one file's
 * row re-renders only when that file changes.
 *
 * React 18 and 19: only `useSyncExternalStore`, `useEffect`, `useState`, `useRef`, `useMemo`.
 * Nothing runs at import time, so server rendering can import it; on the server the hook renders
 * the initial state and starts nothing.
 */
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { ByteSource } from '../core/port.js';
import type { UploadLifecycleError } from '../errors.js';
import type { UploadStatus } from '../machines/lifecycle.js';
import type { AddedFile } from '../machines/upload-files.js';
import {
  selectDatabaseStatus,
  selectIsBusy,
  selectJobs,
  selectPhase,
  selectProgress,
  type FileJob,
  type UploadPhase,
  type UploadProgress,
  type UploadSnapshot,
} from '../machines/upload-selectors.js';
import { createUploadStore, type UploadStore, type UploadStoreOptions } from './upload-store.js';
import { fileView, shallowEqualArrays, typedError, type UploadFileView } from './views.js';

export type UseUploadLifecycleOptions = UploadStoreOptions;

/** Files for {@link UploadLifecycle.addFiles}: `File`s (with a slot) or full entries. */
export type FilesInput = Iterable<Blob | Uint8Array> | ArrayLike<Blob | Uint8Array>;

export interface UploadActions {
  /** Creates the draft (`create_upload_draft`). Safe to repeat: one idempotency key per upload. */
  create(metadata?: Record<string, unknown>, options?: { kind?: string; idempotencyKey?: string }): void;
  /** Adds files to a slot (`<input type=file>`'s `files`), or full {@link AddedFile} entries. */
  addFiles(files: readonly AddedFile[]): void;
  addFiles(files: FilesInput, options: { slot: string }): void;
  removeFile(key: string): void;
  /** `begin_upload`, then the transfers; finalize follows automatically unless `autoFinalize: false`. */
  start(): void;
  /**
   * Fails a running upload with reason `cancelled` and aborts the transfers. Refused (typed) in
   * idle, draft and starting, where nothing runs: {@link UploadActions.discard} removes those.
   */
  cancel(): void;
  /**
   * Deletes the upload (`delete_upload`; its objects are queued for removal) and forgets the
   * local files; status becomes `discarded`. Refused, typed, once completed.
   */
  discard(): void;
  /** `retry_upload` on a failed entity (attempts permitting). */
  retry(): void;
  retryFile(key: string): void;
  finalize(): void;
  /** Continues a suspended upload (after a reload): the bytes of the unfinished files, by key. */
  resume(sources?: Record<string, ByteSource>): void;
}

export interface UploadLifecycle extends UploadActions {
  /** The machine's state: `idle`, `creating`, `draft`, `starting`, `uploading`, `finalizing`, … */
  status: UploadPhase;
  /** The entity's status as the database last reported it; `null` before the draft exists. */
  databaseStatus: UploadStatus | null;
  entityId: string | null;
  files: UploadFileView[];
  progress: UploadProgress;
  /** The last error, typed: branch on `error.code` (`UL002`, …). */
  error: UploadLifecycleError | null;
  /** A request is in flight. */
  isBusy: boolean;
  /**
   * Finalized, and the database runs the kind's processors (status `processing`): the upload is
   * not `completed` until they are done; {@link UploadLifecycle.jobs} shows them.
   */
  isProcessing: boolean;
  /** Each file's processing jobs by file key (`{}` for kinds without processors), as last reported. */
  jobs: Record<string, FileJob[]>;
  /** For {@link useUploadFile}, {@link useUploadSelector} and devtools. Stable for the hook's life. */
  store: UploadStore;
}

function actionsOf(store: UploadStore): UploadActions {
  function addFiles(files: readonly AddedFile[] | FilesInput, options?: { slot: string }): void {
    const list = Array.from(files as ArrayLike<AddedFile | Blob | Uint8Array>).map((file): AddedFile => {
      if ('body' in file && 'slot' in file) return file;
      if (!options) throw new TypeError('addFiles(files, { slot }): a slot is needed for plain files');
      return { slot: options.slot, body: file };
    });
    if (list.length > 0) store.send({ type: 'ADD_FILES', files: list });
  }
  return {
    create: (metadata, options) =>
      store.send({
        type: 'CREATE',
        ...(metadata !== undefined && { metadata }),
        ...(options?.kind !== undefined && { kind: options.kind }),
        ...(options?.idempotencyKey !== undefined && { idempotencyKey: options.idempotencyKey }),
      }),
    addFiles: addFiles as UploadActions['addFiles'],
    removeFile: (key) => store.send({ type: 'REMOVE_FILE', key }),
    start: () => store.send({ type: 'START' }),
    cancel: () => store.send({ type: 'CANCEL' }),
    discard: () => store.send({ type: 'DISCARD' }),
    retry: () => store.send({ type: 'RETRY' }),
    retryFile: (key) => store.send({ type: 'RETRY_FILE', key }),
    finalize: () => store.send({ type: 'FINALIZE' }),
    resume: (sources) => store.send(sources ? { type: 'RESUME', sources } : { type: 'RESUME' }),
  };
}

/** Creates the store once per mounted component and keeps it alive across StrictMode's remount. */
function useUploadStore(options: UseUploadLifecycleOptions): UploadStore {
  const [store] = useState(() => createUploadStore(options));
  const { onCompleted, onSettled } = options;
  useEffect(() => {
    store.setCallbacks({ onCompleted, onSettled });
  }, [store, onCompleted, onSettled]);
  useEffect(() => store.retain(), [store]);
  return store;
}

/**
 * Runs one upload: metadata first, files second, finalize last, with `completed` only on the
 * database's word. Re-renders at most once per animation frame.
 *
 * The options are read when the component mounts; to upload for another entity, remount it
 * (`<Uploader key={entityId} … />`). Callbacks may change on every render.
 *
 * @example With React Query: refresh the entity once the database confirms it.
 * ```tsx
 * function ProductPhotos({ productId }: { productId?: string }) {
 *   const queryClient = useQueryClient();
 *   const upload = useUploadLifecycle({
 *     backend,
 *     kind: 'product',
 *     entityId: productId,
 *     persistKey: 'product-upload',
 *     onCompleted: ({ entityId }) => queryClient.invalidateQueries({ queryKey: ['product', entityId] }),
 *   });
 *   return (
 *     <>
 *       <input type="file" multiple onChange={(e) => upload.addFiles(e.target.files!, { slot: 'photos' })} />
 *       <button onClick={() => upload.create({ title: 'Chair' })} disabled={upload.status !== 'idle'}>Create</button>
 *       <button onClick={upload.start} disabled={upload.status !== 'draft'}>Upload</button>
 *       <progress value={upload.progress.fraction} />
 *       {upload.files.map((f) => <FileRow key={f.key} store={upload.store} fileKey={f.key} />)}
 *       {upload.error?.code === 'UL004' && <p>{upload.error.message}</p>}
 *     </>
 *   );
 * }
 * ```
 */
export function useUploadLifecycle(options: UseUploadLifecycleOptions): UploadLifecycle {
  const store = useUploadStore(options);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot);
  const actions = useMemo(() => actionsOf(store), [store]);
  const files = snapshot.context.files;
  const views = useMemo(() => files.map(fileView), [files]);
  // selectJobs reads only the jobs and the files: a new object only when either changes.
  const jobs = useMemo(() => selectJobs(snapshot), [snapshot.context.jobs, files]);
  return {
    ...actions,
    status: selectPhase(snapshot),
    databaseStatus: selectDatabaseStatus(snapshot) ?? snapshot.context.status,
    entityId: snapshot.context.entityId,
    files: views,
    progress: selectProgress(snapshot),
    error: typedError(snapshot.context.error),
    isBusy: selectIsBusy(snapshot),
    isProcessing: selectPhase(snapshot) === 'processing',
    jobs,
    store,
  };
}

/**
 * Subscribes to a slice of an upload; the component re-renders only when `isEqual` says the
 * slice changed (default `Object.is`), and at most once per animation frame.
 *
 * @example
 * ```tsx
 * const phase = useUploadSelector(upload.store, (s) => selectPhase(s));
 * ```
 */
export function useUploadSelector<T>(
  store: UploadStore,
  selector: (snapshot: UploadSnapshot) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  type Cache = { snapshot: UploadSnapshot; selector: typeof selector; value: T } | null;
  const client = useRef<Cache>(null);
  const server = useRef<Cache>(null);
  const select = (cache: { current: Cache }, snapshot: UploadSnapshot): T => {
    const previous = cache.current;
    if (previous && previous.snapshot === snapshot && previous.selector === selector) return previous.value;
    const selected = selector(snapshot);
    const value = previous && isEqual(previous.value, selected) ? previous.value : selected;
    cache.current = { snapshot, selector, value };
    return value;
  };
  return useSyncExternalStore(
    store.subscribe,
    () => select(client, store.getSnapshot()),
    () => select(server, store.getServerSnapshot()),
  );
}

/**
 * One file's view, by key; `undefined` once removed. Re-renders only when this file changes:
 * wrap the row in `React.memo` and pass it the store and key.
 *
 * @example
 * ```tsx
 * const FileRow = memo(function FileRow({ store, fileKey }: { store: UploadStore; fileKey: string }) {
 *   const file = useUploadFile(store, fileKey);
 *   return file ? <progress value={file.progress} /> : null;
 * });
 * ```
 */
export function useUploadFile(store: UploadStore, key: string): UploadFileView | undefined {
  return useUploadSelector(store, (snapshot) => {
    const entry = snapshot.context.files.find((f) => f.key === key);
    return entry ? fileView(entry) : undefined;
  });
}

/** The files' keys, in order; changes only when files are added or removed. */
export function useUploadFileKeys(store: UploadStore): string[] {
  return useUploadSelector(store, (snapshot) => snapshot.context.files.map((f) => f.key), shallowEqualArrays);
}

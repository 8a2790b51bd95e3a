/**
 * The upload machine's side effects, as actor logic bound to a Backend: one promise actor per
 * RPC, and a stateless transfer actor per file in flight. The bytes of each file live here, keyed
 * by the actor system, and each transfer's AbortController lives in its closure: neither is ever
 * in a snapshot.
 */
import { fromCallback, fromPromise, type ActorSystem, type AnyEventObject } from 'xstate';
import type { Backend, ByteSource, CreateDraftInput, FileRegistration, UploadState } from '../core/port.js';
import { pollingWatcher, variantsSettled } from '../core/watch.js';
import { MissingSourceError } from '../errors.js';

/** Bytes per actor system (one per root actor), outside any snapshot. */
const bytesBySystem = new WeakMap<ActorSystem<never>, Map<string, ByteSource>>();

/** The byte store of the actor tree `system` belongs to. */
export function bytesOf(system: unknown): Map<string, ByteSource> {
  const key = system as ActorSystem<never>;
  let map = bytesBySystem.get(key);
  if (!map) bytesBySystem.set(key, (map = new Map()));
  return map;
}

/**
 * Hands the bytes of one actor tree to another: a store that restarts its actor from the
 * persisted snapshot (React's `<Activity>` hiding and showing it) keeps the files it had.
 */
export function adoptBytes(from: unknown, to: unknown): void {
  const source = bytesOf(from);
  const target = bytesOf(to);
  for (const [key, body] of source) target.set(key, body);
}

/** What a transfer actor is told: what to send where. */
export interface TransferInput {
  key: string;
  bucketId: string;
  objectPath: string;
  size: number;
  type: string;
  /** Send with `x-upsert: true`: the stored object did not match the registration. */
  upsert: boolean;
}

/** What a transfer reports to the upload machine. */
export type TransferEvent =
  | { type: 'TRANSFER.PROGRESS'; key: string; bytesSent: number }
  | { type: 'TRANSFER.DONE'; key: string }
  | { type: 'TRANSFER.ERROR'; key: string; error: unknown };

export { MissingSourceError };

/** What the watcher reports to the upload machine while the entity is `processing`. */
export type WatchEvent =
  /** A state the watcher saw (`output`, like an RPC's answer); the last one is the settled one. */
  | { type: 'WATCH.STATE'; output: UploadState }
  /** The watch ended without a settled state (the entity is gone: UL003). */
  | { type: 'WATCH.ERROR'; error: unknown };

/** Options of the watch while `processing`. */
export interface WatchConfig {
  /** Poll intervals of the default (polling) watcher; see `WatchOptions.intervalsMs`. */
  intervalsMs?: readonly number[] | undefined;
}

/**
 * The registrations with each file's SHA-256 filled in from its attached bytes (when asked to and
 * the backend can hash); a declared hash or a file without bytes is left as it is.
 */
async function withHashes(
  backend: Backend,
  files: FileRegistration[],
  system: unknown,
  hash: boolean,
): Promise<FileRegistration[]> {
  const sha256Of = backend.sha256Of?.bind(backend);
  if (!hash || !sha256Of) return files;
  const bytes = bytesOf(system);
  return Promise.all(
    files.map(async (f) => {
      const body = f.key === undefined || f.sha256 ? undefined : bytes.get(f.key);
      return body === undefined ? f : { ...f, sha256: await sha256Of(body) };
    }),
  );
}

export function createUploadActors(backend: Backend, watch: WatchConfig = {}, hashing = { sha256: false }) {
  const watchUpload = backend.watchUpload ?? pollingWatcher((id) => backend.getUploadState(id));
  return {
    /**
     * Watches a `processing` entity (`backend.watchUpload`, else polling `get_upload_state`):
     * each state it reports, then the settled one, as `WATCH.STATE`; with `variants`, a completed
     * one until its optional jobs ended too; with `skip`, nothing. Stopping the actor stops the watch.
     */
    watchUpload: fromCallback<AnyEventObject, { entityId: string; variants?: boolean; skip?: boolean }>(
      ({ input, sendBack }) => {
        if (input.skip) return;
        const controller = new AbortController();
        const send = (event: WatchEvent) => {
          if (!controller.signal.aborted) sendBack(event);
        };
        watchUpload(input.entityId, (state) => send({ type: 'WATCH.STATE', output: state }), {
          signal: controller.signal,
          ...(watch.intervalsMs && { intervalsMs: watch.intervalsMs }),
          ...(input.variants && { settled: variantsSettled }),
        }).then(
          // A watcher reports the settled state before resolving with it; a push-based one may not.
          (state) => send({ type: 'WATCH.STATE', output: state }),
          (error: unknown) => send({ type: 'WATCH.ERROR', error }),
        );
        return () => controller.abort();
      },
    ),
    createDraft: fromPromise<UploadState, CreateDraftInput>(async ({ input, system }) =>
      backend.createDraft(
        input.files
          ? { ...input, files: await withHashes(backend, [...input.files], system, hashing.sha256) }
          : input,
      ),
    ),
    startUpload: fromPromise<UploadState, { entityId: string; files: FileRegistration[] }>(
      async ({ input, system }) =>
        backend.startUpload(input.entityId, await withHashes(backend, input.files, system, hashing.sha256)),
    ),
    registerFiles: fromPromise<UploadState, { entityId: string; files: FileRegistration[] }>(
      async ({ input, system }) =>
        backend.registerFiles(input.entityId, await withHashes(backend, input.files, system, hashing.sha256)),
    ),
    /** Removes rows one by one; answers the ids removed (a row already gone counts as removed). */
    removeFiles: fromPromise<string[], { entityId: string; fileIds: string[] }>(async ({ input }) => {
      for (const fileId of input.fileIds) {
        await backend.removeFile(input.entityId, fileId).catch((error: unknown) => {
          if ((error as { code?: string } | null)?.code !== 'UL003') throw error;
        });
      }
      return input.fileIds;
    }),
    finalizeUpload: fromPromise<UploadState, { entityId: string }>(({ input }) =>
      backend.finalizeUpload(input.entityId),
    ),
    failUpload: fromPromise<UploadState, { entityId: string; reason: string }>(({ input }) =>
      backend.failUpload(input.entityId, input.reason),
    ),
    retryUpload: fromPromise<UploadState, { entityId: string }>(({ input }) =>
      backend.retryUpload(input.entityId),
    ),
    getUploadState: fromPromise<UploadState, { entityId: string }>(({ input }) =>
      backend.getUploadState(input.entityId),
    ),
    deleteUpload: fromPromise<void, { entityId: string }>(({ input }) =>
      backend.deleteUpload(input.entityId),
    ),
    /**
     * One object transfer. Stopping the actor aborts the request; an aborted transfer reports
     * nothing, so a file removed or cancelled mid-flight never reports again.
     */
    transfer: fromCallback<AnyEventObject, TransferInput>(({ input, sendBack, system }) => {
      const controller = new AbortController();
      /** The transfer answered: stopping the actor then has no request to abort. */
      let settled = false;
      const send = (event: TransferEvent) => {
        if (!controller.signal.aborted) sendBack(event);
      };
      const body = bytesOf(system).get(input.key);
      if (!body) {
        const missing = new MissingSourceError({
          message: `the bytes of file ${input.key} are not here (page reloaded?)`,
          hint: 'Send RESUME with the file again (sources: { [key]: file }).',
        });
        queueMicrotask(() => send({ type: 'TRANSFER.ERROR', key: input.key, error: missing }));
      } else {
        backend
          .uploadObject({
            bucketId: input.bucketId,
            objectPath: input.objectPath,
            body,
            contentType: input.type,
            size: input.size,
            upsert: input.upsert,
            signal: controller.signal,
            onProgress: (bytesSent) => send({ type: 'TRANSFER.PROGRESS', key: input.key, bytesSent }),
          })
          .then(
            () => {
              settled = true;
              send({ type: 'TRANSFER.DONE', key: input.key });
            },
            (error: unknown) => {
              settled = true;
              send({ type: 'TRANSFER.ERROR', key: input.key, error });
            },
          );
      }
      // A transfer that answered is not aborted when its actor stops (the machine stops it on
      // TRANSFER.DONE): an abort would only make the adapter build an error nobody reads.
      return () => {
        if (!settled) controller.abort();
      };
    }),
  };
}

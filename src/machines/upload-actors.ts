/**
 * The upload machine's side effects, as actor logic bound to a Backend: one promise actor per
 * RPC, and the per-file machine with its `registerFile` and `transferObject` actors provided.
 * The bytes of each file and the AbortController of each transfer live here, keyed by the actor
 * system and closed over by the transfer, never in a snapshot.
 */
import { fromCallback, fromPromise, type ActorSystem, type AnyEventObject } from 'xstate';
import type {
  Backend,
  ByteSource,
  FileRegistration,
  RegisteredFile,
  UploadState,
} from '../adapters/backend.js';
import { InvalidFileError } from '../errors.js';
import { fileUploadMachine, type FileUploadEvent, type TransferInput } from './file-upload.js';
import { backoffDelay } from './upload-retry.js';

/** Bytes per actor system (one per root actor), outside any snapshot. */
const bytesBySystem = new WeakMap<ActorSystem<never>, Map<string, ByteSource>>();

/** The byte store of the actor tree `system` belongs to. */
export function bytesOf(system: unknown): Map<string, ByteSource> {
  const key = system as ActorSystem<never>;
  let map = bytesBySystem.get(key);
  if (!map) bytesBySystem.set(key, (map = new Map()));
  return map;
}

/** One promise actor per RPC of the Backend port. */
export function createBackendActors(backend: Backend) {
  return {
    createDraft: fromPromise<
      UploadState,
      { kind: string; metadata: Record<string, unknown>; idempotencyKey: string | null }
    >(({ input }) => backend.createDraft(input)),
    beginUpload: fromPromise<UploadState, { entityId: string }>(({ input }) =>
      backend.beginUpload(input.entityId),
    ),
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
    removeFile: fromPromise<UploadState, { entityId: string; fileId: string }>(({ input }) =>
      backend.removeFile(input.entityId, input.fileId),
    ),
  };
}

/**
 * The per-file machine bound to a backend. Stopping the file actor stops its transfer actor,
 * whose cleanup aborts the request; an aborted transfer reports nothing.
 */
export function createFileUploadLogic(backend: Backend, random: () => number) {
  return fileUploadMachine.provide({
    actors: {
      registerFile: fromPromise<RegisteredFile, { entityId: string; registration: FileRegistration }>(
        ({ input }) => backend.registerFile(input.entityId, input.registration),
      ),
      removeFile: fromPromise<UploadState, { entityId: string; fileId: string }>(({ input }) =>
        backend.removeFile(input.entityId, input.fileId),
      ),
      transferObject: fromCallback<AnyEventObject, TransferInput>(({ input, sendBack, system }) => {
        const controller = new AbortController();
        const body = bytesOf(system).get(input.key);
        const send = (event: FileUploadEvent) => {
          if (!controller.signal.aborted) sendBack(event);
        };
        if (!body) {
          const missing = new InvalidFileError({
            message: `the bytes of file ${input.key} are not here (page reloaded?)`,
            hint: 'Send RESUME with the file again (sources: { [key]: file }).',
          });
          queueMicrotask(() => send({ type: 'TRANSFER.ERROR', error: missing }));
        } else {
          backend
            .uploadObject({
              bucketId: input.bucketId,
              objectPath: input.objectPath,
              body,
              contentType: input.type,
              size: input.size,
              upsert: input.upsert === true,
              signal: controller.signal,
              onProgress: (bytesSent) => send({ type: 'TRANSFER.PROGRESS', bytesSent }),
            })
            .then(
              () => send({ type: 'TRANSFER.DONE' }),
              (error: unknown) => send({ type: 'TRANSFER.ERROR', error }),
            );
        }
        return () => controller.abort();
      }),
    },
    delays: {
      backoff: ({ context }) => backoffDelay(context.failures, context.retry, random),
    },
  });
}

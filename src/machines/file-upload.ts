/**
 * One file's upload: queued → registering → uploading (bytes sent / total) → uploaded, with
 * retrying (exponential backoff with jitter) and error. Spawned by the upload machine under the
 * registered name `fileUpload`, so a persisted snapshot can name its logic.
 *
 * The actor does no I/O itself: `registerFile` and `transferObject` are provided by
 * `createUploadMachine` (bound to a Backend), and the transfer's AbortController lives in the
 * transfer actor's closure, never in the snapshot. Stopping this actor stops the transfer, which
 * aborts the request.
 *
 * Every change is reported to the parent as `FILE.UPDATE`, so the parent's context is the one
 * place a UI reads per-file state from.
 */
import {
  assign,
  fromCallback,
  fromPromise,
  sendParent,
  setup,
  type ActorRefFrom,
  type AnyEventObject,
  type DoneActorEvent,
  type ErrorActorEvent,
} from 'xstate';
import type { FileRegistration, RegisteredFile, UploadState } from '../adapters/backend.js';
import {
  DEFAULT_RETRY,
  backoffDelay,
  classifyFailure,
  serializeError,
  type RetryPolicy,
  type SerializedUploadError,
} from './upload-retry.js';

/** A file's status as the parent's context shows it. `pending`: no actor yet (before START). */
export type FileUploadStatus =
  'pending' | 'queued' | 'registering' | 'uploading' | 'retrying' | 'uploaded' | 'error';

export interface FileUploadInput {
  key: string;
  entityId: string;
  slot: string;
  name: string;
  size: number;
  type: string;
  sha256: string | null;
  fileId: string | null;
  bucketId: string | null;
  objectPath: string | null;
  /** Replace the object already at the path (it did not match the registration). */
  replace?: boolean;
  retry: RetryPolicy;
}

export interface FileUploadContext extends FileUploadInput {
  /** REMOVE_FILE arrived while the registration was in flight: undo it once it answers. */
  discard?: boolean;
  bytesSent: number;
  /** Failed tries of the current run; reset by RETRY. */
  failures: number;
  error: SerializedUploadError | null;
}

/** Input of the `transferObject` actor: what to send where. */
export interface TransferInput {
  key: string;
  bucketId: string;
  objectPath: string;
  size: number;
  type: string;
  /** Send with `x-upsert: true`. */
  upsert?: boolean;
}

export type FileUploadEvent =
  | { type: 'RUN' }
  | { type: 'RETRY' }
  /** The file was removed while registering: remove the registration once it answers. */
  | { type: 'REMOVE' }
  | { type: 'TRANSFER.PROGRESS'; bytesSent: number }
  | { type: 'TRANSFER.DONE' }
  | { type: 'TRANSFER.ERROR'; error: unknown };

/** A file removed while registering has undone its registration (or had none to undo). */
export interface FileDiscardedEvent {
  type: 'FILE.DISCARDED';
  key: string;
}

/** What the file actor tells its parent. */
export interface FileUpdateEvent {
  type: 'FILE.UPDATE';
  key: string;
  status: FileUploadStatus;
  bytesSent: number;
  failures: number;
  fileId: string | null;
  bucketId: string | null;
  objectPath: string | null;
  error: SerializedUploadError | null;
}

type FailureEvent = ErrorActorEvent | { type: 'TRANSFER.ERROR'; error: unknown };
const failureOf = (event: AnyEventObject) => classifyFailure((event as FailureEvent).error);

/**
 * The file actor's logic. Its two actors are placeholders here; `createUploadMachine` provides
 * the real ones (and a `backoff` delay with an injected random source).
 */
export const fileUploadMachine = setup({
  types: {
    context: {} as FileUploadContext,
    input: {} as FileUploadInput,
    events: {} as FileUploadEvent,
  },
  actors: {
    registerFile: fromPromise<RegisteredFile, { entityId: string; registration: FileRegistration }>(
      async () => {
        throw new Error('registerFile not provided: create the machine with createUploadMachine(backend)');
      },
    ),
    transferObject: fromCallback<AnyEventObject, TransferInput>(({ sendBack }) => {
      sendBack({ type: 'TRANSFER.ERROR', error: new Error('transferObject not provided') });
    }),
    removeFile: fromPromise<UploadState, { entityId: string; fileId: string }>(async () => {
      throw new Error('removeFile not provided: create the machine with createUploadMachine(backend)');
    }),
  },
  delays: {
    backoff: ({ context }) => backoffDelay(context.failures, context.retry, Math.random),
  },
  guards: {
    registered: ({ context }) => context.fileId !== null,
    discard: ({ context }) => context.discard === true,
    exists: ({ event }) => failureOf(event) === 'exists',
    retryable: ({ context, event }) =>
      failureOf(event) === 'retry' && context.failures + 1 < context.retry.attempts,
    aborted: ({ event }) => failureOf(event) === 'aborted',
  },
  actions: {
    report: sendParent(({ context }, params: { status: FileUploadStatus }): FileUpdateEvent => ({
      type: 'FILE.UPDATE',
      key: context.key,
      status: params.status,
      bytesSent: context.bytesSent,
      failures: context.failures,
      fileId: context.fileId,
      bucketId: context.bucketId,
      objectPath: context.objectPath,
      error: context.error,
    })),
    reportDiscarded: sendParent(({ context }): FileDiscardedEvent => ({
      type: 'FILE.DISCARDED',
      key: context.key,
    })),
    recordFailure: assign({
      failures: ({ context }) => context.failures + 1,
      error: ({ event }) => serializeError((event as FailureEvent).error),
    }),
  },
}).createMachine({
  id: 'fileUpload',
  initial: 'queued',
  context: ({ input }) => ({ ...input, bytesSent: 0, failures: 0, error: null }),
  // The parent sends REMOVE to a file it saw registering; if the answer came first, the file is
  // wherever it went since: stop there and undo the registration.
  on: {
    REMOVE: [{ guard: 'registered', target: '.discarding' }, { target: '.discarded' }],
  },
  states: {
    queued: {
      on: {
        RUN: [{ guard: 'registered', target: 'uploading' }, { target: 'registering' }],
      },
    },
    registering: {
      entry: { type: 'report', params: { status: 'registering' } },
      invoke: {
        src: 'registerFile',
        input: ({ context }) => ({
          entityId: context.entityId,
          registration: {
            slot: context.slot,
            filename: context.name,
            size: context.size,
            mime: context.type,
            sha256: context.sha256,
          },
        }),
        onDone: {
          target: 'afterRegister',
          actions: assign(({ event }: { event: DoneActorEvent<RegisteredFile> }) => ({
            fileId: event.output.fileId,
            bucketId: event.output.bucketId,
            objectPath: event.output.objectPath,
          })),
        },
        onError: [
          { guard: 'discard', target: 'discarded' },
          { guard: 'retryable', target: 'retrying', actions: 'recordFailure' },
          { target: 'error', actions: 'recordFailure' },
        ],
      },
      on: {
        REMOVE: { actions: assign({ discard: true }) },
      },
    },
    afterRegister: {
      always: [{ guard: 'discard', target: 'discarding' }, { target: 'uploading' }],
    },
    // Removed while registering: the row exists now; remove it, then stop. The parent has already
    // dropped the file and waits for FILE.DISCARDED before it finalizes.
    discarding: {
      on: { REMOVE: {} },
      invoke: {
        src: 'removeFile',
        input: ({ context }) => ({ entityId: context.entityId, fileId: context.fileId! }),
        onDone: { target: 'discarded' },
        // The row stays; finalize will name it and the machine shows it as a file to remove.
        onError: { target: 'discarded' },
      },
    },
    discarded: {
      type: 'final',
      entry: 'reportDiscarded',
    },
    uploading: {
      entry: { type: 'report', params: { status: 'uploading' } },
      invoke: {
        src: 'transferObject',
        input: ({ context }) => ({
          key: context.key,
          bucketId: context.bucketId!,
          objectPath: context.objectPath!,
          size: context.size,
          type: context.type,
          upsert: context.replace === true,
        }),
      },
      on: {
        'TRANSFER.PROGRESS': {
          actions: [
            assign({ bytesSent: ({ event }) => event.bytesSent }),
            { type: 'report', params: { status: 'uploading' } },
          ],
        },
        'TRANSFER.DONE': { target: 'uploaded' },
        'TRANSFER.ERROR': [
          { guard: 'exists', target: 'uploaded' },
          { guard: 'aborted', target: 'queued', actions: { type: 'report', params: { status: 'queued' } } },
          { guard: 'retryable', target: 'retrying', actions: 'recordFailure' },
          { target: 'error', actions: 'recordFailure' },
        ],
      },
    },
    retrying: {
      entry: { type: 'report', params: { status: 'retrying' } },
      after: {
        backoff: [{ guard: 'registered', target: 'uploading' }, { target: 'registering' }],
      },
    },
    uploaded: {
      type: 'final',
      entry: [
        assign({ bytesSent: ({ context }) => context.size, error: null }),
        { type: 'report', params: { status: 'uploaded' } },
      ],
    },
    error: {
      entry: { type: 'report', params: { status: 'error' } },
      on: {
        RETRY: {
          target: 'queued',
          actions: [assign({ failures: 0, error: null }), { type: 'report', params: { status: 'queued' } }],
        },
      },
    },
  },
});

export type FileUploadActorRef = ActorRefFrom<typeof fileUploadMachine>;

export { DEFAULT_RETRY };

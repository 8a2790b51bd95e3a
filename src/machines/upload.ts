/**
 * The upload machine: drives one entity from metadata to a database-confirmed `completed`.
 *
 *   idle → creating → draft → starting → uploading → finalizing → completed
 *                                          │   ▲            │
 *                              cancelling/failing → failed ─┘ retrying
 *   loading (resume by id or after a reload) → whichever state the database reports
 *
 * Each state declares in `meta.status` the database status it stands for; a contract test checks
 * that every status change the machine can make is a row of the lifecycle table. `completed` is
 * entered only on `finalize_upload`'s answer.
 *
 * Per file, a `fileUpload` child actor (registered name, so snapshots persist) registers the file
 * and transfers its bytes, with retry and backoff; at most `concurrency` run at once. The bytes
 * and the AbortControllers live outside the snapshot (keyed by the actor system), so
 * `getPersistedSnapshot()` is plain JSON; see {@link persistUpload} for resuming after a reload.
 *
 * @example
 * ```ts
 * const machine = createUploadMachine({ backend });
 * const actor = createActor(machine, { input: { kind: 'report' } }).start();
 * actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: file }] });
 * actor.send({ type: 'CREATE', metadata: { title: 'Q3' } });
 * // …in draft:
 * actor.send({ type: 'START' });
 * ```
 */
import { assign, enqueueActions, setup, type AnyEventObject } from 'xstate';
import type { Backend, ByteSource, FileRequirement, UploadState } from '../adapters/backend.js';
import { InvalidFileError, isUploadLifecycleError } from '../errors.js';
import type { UploadStatus } from './lifecycle.js';
import type { FileDiscardedEvent, FileUpdateEvent } from './file-upload.js';
import { bytesOf, createBackendActors, createFileUploadLogic } from './upload-actors.js';
import {
  allUploaded,
  applyFileUpdate,
  entriesFor,
  nextToRun,
  reconcileFiles,
  settledWithError,
  type AddedFile,
  type UploadFileEntry,
} from './upload-files.js';
import {
  DEFAULT_RETRY,
  backoffDelay,
  classifyFailure,
  serializeError,
  type RetryPolicy,
  type SerializedUploadError,
} from './upload-retry.js';
import { checkFiles } from './upload-validate.js';

/** What a state of the upload machine stands for in the database. */
export interface UploadStateMeta {
  /** The entity's database status while in this state; `null`: no row yet, or not known yet. */
  status: UploadStatus | null;
  /** The state learns the status from the database rather than causing it (loading, suspended). */
  observed?: boolean;
}

export interface UploadOptions {
  concurrency: number;
  autoFinalize: boolean;
  retry: RetryPolicy;
}

export interface UploadInput {
  kind?: string;
  metadata?: Record<string, unknown>;
  /** Resume this entity: the machine starts in `loading`. */
  entityId?: string;
  /** The kind's requirements, if known before the draft exists (validates ADD_FILES early). */
  requirements?: FileRequirement[];
  concurrency?: number;
  autoFinalize?: boolean;
  retry?: Partial<RetryPolicy>;
}

export interface UploadContext {
  kind: string | null;
  metadata: Record<string, unknown>;
  idempotencyKey: string | null;
  entityId: string | null;
  /** The last status the database reported. */
  status: UploadStatus | null;
  attempt: number;
  maxAttempts: number;
  requirements: FileRequirement[] | null;
  files: UploadFileEntry[];
  /** Keys handed out so far (`f{n}`). */
  sequence: number;
  error: SerializedUploadError | null;
  finalizeFailures: number;
  /**
   * Keys of files removed while their registration was in flight: their actors remove the row
   * once it exists, and finalize waits for them. (Optional: snapshots from before it lack it.)
   */
  discarding?: string[];
  /** Set when finalize was refused; auto-finalize waits for an explicit FINALIZE. */
  halted: boolean;
  failureReason: string | null;
  options: UploadOptions;
}

export type UploadEvent =
  | { type: 'CREATE'; kind?: string; metadata?: Record<string, unknown>; idempotencyKey?: string }
  | { type: 'ADD_FILES'; files: AddedFile[] }
  | { type: 'REMOVE_FILE'; key: string }
  | { type: 'START' }
  | { type: 'CANCEL' }
  | { type: 'RETRY' }
  | { type: 'RETRY_FILE'; key: string }
  | { type: 'FINALIZE' }
  /** Continue a restored snapshot (re-attaching bytes by key), or re-read the entity. */
  | { type: 'RESUME'; sources?: Record<string, ByteSource> }
  | FileUpdateEvent
  | FileDiscardedEvent;

/** What a completed upload actor outputs. */
export interface UploadOutput {
  entityId: string;
  files: UploadFileEntry[];
}

export interface CreateUploadMachineOptions {
  backend: Backend;
  /** Jitter source, `[0, 1)`. Inject a seeded one for deterministic tests. Default `Math.random`. */
  random?: () => number;
  /** Idempotency keys for CREATE. Default `crypto.randomUUID`. */
  generateId?: () => string;
}

const childId = (key: string) => `file:${key}`;
const noDiscards = (context: UploadContext) => (context.discarding ?? []).length === 0;

function stateOf(event: AnyEventObject): UploadState {
  return (event as unknown as { output: UploadState }).output;
}
function errorOf(event: AnyEventObject): unknown {
  return (event as unknown as { error: unknown }).error;
}
const isCode = (code: string) => (event: AnyEventObject) =>
  isUploadLifecycleError(errorOf(event)) && (errorOf(event) as { code: string }).code === code;

function fromDatabase(state: UploadState) {
  return {
    entityId: state.entityId,
    kind: state.kind,
    status: state.status,
    attempt: state.attempt,
    maxAttempts: state.maxAttempts,
    requirements: state.requirements,
    metadata: state.metadata,
    failureReason: state.failureReason,
  };
}

/**
 * Builds the upload machine bound to a backend. The result is ordinary XState logic:
 * `createActor(machine, { input, clock })`, `actor.getPersistedSnapshot()`, `xstate/graph`.
 */
export function createUploadMachine(options: CreateUploadMachineOptions) {
  const { backend } = options;
  const random = options.random ?? Math.random;
  const generateId = options.generateId ?? (() => globalThis.crypto.randomUUID());

  return setup({
    types: {
      context: {} as UploadContext,
      events: {} as UploadEvent,
      input: {} as UploadInput,
      output: {} as UploadOutput,
    },
    actors: { fileUpload: createFileUploadLogic(backend, random), ...createBackendActors(backend) },
    delays: {
      finalizeBackoff: ({ context }) => backoffDelay(context.finalizeFailures, context.options.retry, random),
    },
    guards: {
      hasEntity: ({ context }) => context.entityId !== null,
      filesAcceptable: ({ context, event }) =>
        event.type === 'ADD_FILES' &&
        (context.requirements === null ||
          checkFiles(
            [...context.files, ...entriesFor(event.files, context.sequence)],
            context.requirements,
          ) === null),
      readyToStart: ({ context }) =>
        context.requirements !== null &&
        checkFiles(context.files, context.requirements, { complete: true }) === null,
      readyToFinalize: ({ context }) => allUploaded(context.files) && noDiscards(context),
      autoFinalize: ({ context }) =>
        context.options.autoFinalize && !context.halted && allUploaded(context.files) && noDiscards(context),
      filesFailed: ({ context }) => settledWithError(context.files),
      completedAnswer: ({ event }) => stateOf(event).status === 'completed',
      transient: ({ context, event }) =>
        classifyFailure(errorOf(event)) === 'retry' &&
        context.finalizeFailures + 1 < context.options.retry.attempts,
      requirementsNotMet: ({ event }) => isCode('UL002')(event),
      isDraft: ({ event }) => stateOf(event).status === 'draft',
      isUploading: ({ event }) => stateOf(event).status === 'uploading',
      isCompleted: ({ event }) => stateOf(event).status === 'completed',
    },
    actions: {
      recordError: assign({ error: ({ event }) => serializeError(errorOf(event)) }),
      clearError: assign({ error: null }),
      recordDatabase: assign(({ event }) => fromDatabase(stateOf(event))),
      rejectFiles: assign({
        error: ({ context, event }) =>
          event.type === 'ADD_FILES' && context.requirements
            ? serializeError(
                checkFiles(
                  [...context.files, ...entriesFor(event.files, context.sequence)],
                  context.requirements,
                ),
              )
            : null,
      }),
      rejectStart: assign({
        error: ({ context }) =>
          serializeError(
            context.requirements
              ? checkFiles(context.files, context.requirements, { complete: true })
              : new InvalidFileError({ message: 'requirements unknown', hint: 'Create the draft first.' }),
          ),
      }),
      // Runs before `addFiles`, so it sees the same sequence number and derives the same keys.
      storeBytes: ({ context, event, system }) => {
        if (event.type !== 'ADD_FILES') return;
        const entries = entriesFor(event.files, context.sequence);
        event.files.forEach((file, i) => bytesOf(system).set(entries[i]!.key, file.body));
      },
      addFiles: assign(({ context, event }) => {
        if (event.type !== 'ADD_FILES') return {};
        return {
          files: [...context.files, ...entriesFor(event.files, context.sequence)],
          sequence: context.sequence + event.files.length,
          error: null,
        };
      }),
      attachSources: ({ event, system }) => {
        if (event.type !== 'RESUME' || !event.sources) return;
        for (const [key, body] of Object.entries(event.sources)) bytesOf(system).set(key, body);
      },
      forgetBytes: ({ event, system }) => {
        if (event.type === 'REMOVE_FILE') bytesOf(system).delete(event.key);
      },
      removeEntry: assign({
        files: ({ context, event }) =>
          context.files.filter((f) => event.type !== 'REMOVE_FILE' || f.key !== event.key),
      }),
      removeRegistered: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'REMOVE_FILE') return;
        const entry = context.files.find((f) => f.key === event.key);
        if (!entry) return;
        // Its registration is in flight: stopping now would leave the row behind. The actor
        // removes it once it answers, then reports FILE.DISCARDED.
        if (entry.status === 'registering') {
          enqueue.sendTo(childId(entry.key), { type: 'REMOVE' });
          enqueue.assign({ discarding: [...(context.discarding ?? []), entry.key] });
          return;
        }
        enqueue.stopChild(childId(entry.key));
        if (entry.fileId && context.entityId) {
          enqueue.spawnChild('removeFile', {
            id: `remove:${entry.key}`,
            input: { entityId: context.entityId, fileId: entry.fileId },
          });
        }
      }),
      // A file whose bytes are not here (a reload before RESUME re-attached them) waits as
      // `pending` instead of failing the entity; RESUME with its bytes starts it.
      spawnFiles: enqueueActions(({ context, enqueue, system }) => {
        const bytes = bytesOf(system);
        const toSpawn = context.files.filter(
          (f) => (f.status === 'pending' || f.status === 'error') && bytes.has(f.key),
        );
        for (const f of toSpawn) {
          enqueue.spawnChild('fileUpload', {
            id: childId(f.key),
            input: {
              key: f.key,
              entityId: context.entityId!,
              slot: f.slot,
              name: f.name,
              size: f.size,
              type: f.type,
              sha256: f.sha256,
              fileId: f.fileId,
              bucketId: f.bucketId,
              objectPath: f.objectPath,
              replace: f.replace === true,
              retry: context.options.retry,
            },
          });
        }
        if (toSpawn.length > 0) {
          enqueue.assign({
            files: context.files.map((f) =>
              toSpawn.includes(f)
                ? { ...f, status: 'queued' as const, failures: 0, error: null, bytesSent: 0 }
                : f,
            ),
          });
        }
      }),
      schedule: enqueueActions(({ context, enqueue }) => {
        const next = nextToRun(context.files, context.options.concurrency);
        for (const f of next) enqueue.sendTo(childId(f.key), { type: 'RUN' });
        if (next.length > 0) {
          enqueue.assign({
            files: context.files.map((f) =>
              next.includes(f)
                ? { ...f, status: f.fileId ? ('uploading' as const) : ('registering' as const) }
                : f,
            ),
          });
        }
      }),
      stopFiles: enqueueActions(({ context, enqueue }) => {
        for (const f of context.files) enqueue.stopChild(childId(f.key));
        enqueue.assign({
          files: context.files.map((f) =>
            f.status === 'uploaded' || f.status === 'error' ? f : { ...f, status: 'pending' as const },
          ),
        });
      }),
      applyFileUpdate: assign({
        files: ({ context, event }) =>
          event.type === 'FILE.UPDATE' ? applyFileUpdate(context.files, event) : context.files,
      }),
      retryFile: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'RETRY_FILE') return;
        const entry = context.files.find((f) => f.key === event.key && f.status === 'error');
        if (entry) enqueue.sendTo(childId(entry.key), { type: 'RETRY' });
      }),
      reconcile: assign(({ context, event }) => {
        const state = stateOf(event);
        return { ...fromDatabase(state), files: reconcileFiles(context.files, state) };
      }),
    },
  }).createMachine({
    id: 'upload',
    initial: 'idle',
    context: ({ input }) => ({
      kind: input?.kind ?? null,
      metadata: input?.metadata ?? {},
      idempotencyKey: null,
      entityId: input?.entityId ?? null,
      status: null,
      attempt: 0,
      maxAttempts: 0,
      requirements: input?.requirements ?? null,
      files: [],
      sequence: 0,
      error: null,
      finalizeFailures: 0,
      halted: false,
      failureReason: null,
      discarding: [],
      options: {
        concurrency: Math.max(1, input?.concurrency ?? 3),
        autoFinalize: input?.autoFinalize ?? true,
        retry: { ...DEFAULT_RETRY, ...input?.retry },
      },
    }),
    output: ({ context }) => ({ entityId: context.entityId!, files: context.files }),
    on: {
      ADD_FILES: [
        { guard: 'filesAcceptable', actions: ['storeBytes', 'addFiles'] },
        { actions: 'rejectFiles' },
      ],
      'FILE.DISCARDED': {
        actions: assign({
          discarding: ({ context, event }) => (context.discarding ?? []).filter((key) => key !== event.key),
        }),
      },
    },
    states: {
      idle: {
        meta: { status: null } satisfies UploadStateMeta,
        always: { guard: 'hasEntity', target: 'loading' },
        on: {
          CREATE: {
            target: 'creating',
            actions: assign(({ context, event }) => ({
              kind: event.kind ?? context.kind,
              metadata: event.metadata ?? context.metadata,
              idempotencyKey: event.idempotencyKey ?? context.idempotencyKey ?? generateId(),
              error: null,
            })),
          },
          REMOVE_FILE: { actions: ['forgetBytes', 'removeEntry'] },
        },
      },
      creating: {
        meta: { status: null } satisfies UploadStateMeta,
        invoke: {
          id: 'createDraft',
          src: 'createDraft',
          input: ({ context }) => ({
            kind: context.kind ?? '',
            metadata: context.metadata,
            idempotencyKey: context.idempotencyKey,
          }),
          onDone: [
            // An idempotent create may answer an entity that has moved on: read it properly.
            {
              guard: ({ event }) => event.output.status !== 'draft',
              target: 'loading',
              actions: 'recordDatabase',
            },
            {
              target: 'draft',
              actions: [
                'recordDatabase',
                assign({
                  error: ({ context }) =>
                    context.requirements
                      ? serializeError(checkFiles(context.files, context.requirements))
                      : null,
                }),
              ],
            },
          ],
          onError: { target: 'idle', actions: 'recordError' },
        },
      },
      draft: {
        meta: { status: 'draft' } satisfies UploadStateMeta,
        on: {
          START: [
            { guard: 'readyToStart', target: 'starting', actions: 'clearError' },
            { actions: 'rejectStart' },
          ],
          REMOVE_FILE: { actions: ['forgetBytes', 'removeEntry', 'clearError'] },
        },
      },
      starting: {
        meta: { status: 'draft' } satisfies UploadStateMeta,
        invoke: {
          id: 'beginUpload',
          src: 'beginUpload',
          input: ({ context }) => ({ entityId: context.entityId! }),
          onDone: { target: 'uploading', actions: 'recordDatabase' },
          onError: { target: 'draft', actions: 'recordError' },
        },
      },
      uploading: {
        meta: { status: 'uploading' } satisfies UploadStateMeta,
        entry: ['spawnFiles', 'schedule'],
        exit: 'stopFiles',
        always: [
          { guard: 'autoFinalize', target: 'finalizing' },
          { guard: 'filesFailed', target: 'failing' },
        ],
        on: {
          'FILE.UPDATE': { actions: ['applyFileUpdate', 'schedule'] },
          ADD_FILES: [
            { guard: 'filesAcceptable', actions: ['storeBytes', 'addFiles', 'spawnFiles', 'schedule'] },
            { actions: 'rejectFiles' },
          ],
          REMOVE_FILE: { actions: ['removeRegistered', 'forgetBytes', 'removeEntry', 'schedule'] },
          RETRY_FILE: { actions: 'retryFile' },
          RESUME: { actions: ['attachSources', 'spawnFiles', 'schedule'] },
          FINALIZE: { guard: 'readyToFinalize', target: 'finalizing', actions: assign({ halted: false }) },
          CANCEL: { target: 'cancelling' },
        },
      },
      finalizing: {
        meta: { status: 'uploading' } satisfies UploadStateMeta,
        initial: 'calling',
        states: {
          calling: {
            meta: { status: 'uploading' } satisfies UploadStateMeta,
            invoke: {
              id: 'finalizeUpload',
              src: 'finalizeUpload',
              input: ({ context }) => ({ entityId: context.entityId! }),
              onDone: [
                { guard: 'completedAnswer', target: '#upload.completed', actions: 'recordDatabase' },
                { target: '#upload.loading' },
              ],
              onError: [
                {
                  guard: 'transient',
                  target: 'backoff',
                  actions: [
                    'recordError',
                    assign({ finalizeFailures: ({ context }) => context.finalizeFailures + 1 }),
                  ],
                },
                // Something is missing in Storage: re-read and re-send what is missing; after
                // `retry.attempts` refusals, wait for an explicit FINALIZE.
                {
                  guard: 'requirementsNotMet',
                  target: '#upload.loading',
                  actions: [
                    'recordError',
                    assign(({ context }) => ({
                      finalizeFailures: context.finalizeFailures + 1,
                      halted: context.finalizeFailures + 1 >= context.options.retry.attempts,
                    })),
                  ],
                },
                { target: '#upload.loading', actions: ['recordError', assign({ halted: true })] },
              ],
            },
          },
          backoff: {
            meta: { status: 'uploading' } satisfies UploadStateMeta,
            after: { finalizeBackoff: 'calling' },
          },
        },
      },
      completed: {
        meta: { status: 'completed' } satisfies UploadStateMeta,
        type: 'final',
      },
      cancelling: {
        meta: { status: 'uploading' } satisfies UploadStateMeta,
        invoke: {
          id: 'failUpload',
          src: 'failUpload',
          input: ({ context }) => ({ entityId: context.entityId!, reason: 'cancelled' }),
          onDone: { target: 'failed', actions: 'recordDatabase' },
          onError: { target: 'loading', actions: 'recordError' },
        },
      },
      failing: {
        meta: { status: 'uploading' } satisfies UploadStateMeta,
        invoke: {
          id: 'failUpload',
          src: 'failUpload',
          input: ({ context }) => ({ entityId: context.entityId!, reason: 'client_error' }),
          onDone: { target: 'failed', actions: 'recordDatabase' },
          onError: { target: 'loading', actions: 'recordError' },
        },
      },
      failed: {
        meta: { status: 'failed' } satisfies UploadStateMeta,
        on: {
          RETRY: { target: 'retrying' },
        },
      },
      retrying: {
        meta: { status: 'failed' } satisfies UploadStateMeta,
        invoke: {
          id: 'retryUpload',
          src: 'retryUpload',
          input: ({ context }) => ({ entityId: context.entityId! }),
          onDone: {
            target: 'uploading',
            actions: ['recordDatabase', assign({ error: null, halted: false, finalizeFailures: 0 })],
          },
          onError: { target: 'failed', actions: 'recordError' },
        },
      },
      loading: {
        meta: { status: null, observed: true } satisfies UploadStateMeta,
        invoke: {
          id: 'getUploadState',
          src: 'getUploadState',
          input: ({ context }) => ({ entityId: context.entityId! }),
          onDone: [
            { guard: 'isDraft', target: 'draft', actions: 'reconcile' },
            { guard: 'isUploading', target: 'uploading', actions: 'reconcile' },
            { guard: 'isCompleted', target: 'completed', actions: 'reconcile' },
            { target: 'failed', actions: 'reconcile' },
          ],
          onError: { target: 'suspended', actions: 'recordError' },
        },
      },
      suspended: {
        meta: { status: null, observed: true } satisfies UploadStateMeta,
        on: {
          RESUME: { guard: 'hasEntity', target: 'loading', actions: ['attachSources', 'clearError'] },
        },
      },
    },
  });
}

export type UploadMachine = ReturnType<typeof createUploadMachine>;

/**
 * The upload machine: drives one entity from metadata to a database-confirmed `completed`.
 *
 *   idle → creating → draft → starting → uploading → finalizing → completed
 *     └── START / CREATE{start} ──────────────▶ │  ▲                │  ▲
 *                                                │  │                ▼  │ (database: jobs done)
 *                                                │  │             processing ─▶ failed (a job failed)
 *                                 cancelling/failing → failed ─ retrying
 *   loading (by id, after a lost answer or a refusal) → whichever state the database reports
 *   suspended: a file needs its bytes again (a reload), or the database could not be read
 *   DISCARD (any state but completed) → discarding (delete_upload) → discarded
 *
 * Each state declares in `meta.status` the database status it stands for; a contract test checks
 * that every status change the machine can make is a row of the lifecycle table. `completed` is
 * entered only on the database's answer, and stays: every later event is refused, typed.
 *
 * Every user event is handled, deferred or refused in every state (`USER_EVENT_POLICY`). Every
 * write carries a client key, so repeating it after a lost answer is harmless: the idempotency
 * key of CREATE, the file key of each registration. An upload whose files are known costs two
 * RPCs (START from idle, then finalize); CREATE, START, finalize costs three; plus the transfers.
 *
 * File state has one owner: the machine's context, written only through `upload-files.ts`.
 * Transfers are stateless callback actors (`transfer:{key}`) that report bytes; one exists
 * exactly while its file is `uploading`. Bytes and AbortControllers live outside the snapshot,
 * so `getPersistedSnapshot()` is plain JSON; see {@link persistUpload} for resuming after a reload.
 *
 * @example
 * ```ts
 * const machine = createUploadMachine({ backend });
 * const actor = createActor(machine, { input: { kind: 'report' } }).start();
 * actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: file }] });
 * actor.send({ type: 'START' }); // create, begin and register in one call; then transfers, finalize
 * ```
 */
import { assign, enqueueActions, setup, type AnyEventObject } from 'xstate';
import type { Backend, FileRequirement, UploadJob, UploadState } from '../core/port.js';
import type { UploadStatus } from '../core/status.js';
import { serializeError, type SerializedUploadError } from '../core/error-data.js';
import { InvalidFileError, ProcessingFailedError } from '../errors.js';
import {
  MissingSourceError,
  bytesOf,
  createUploadActors,
  type TransferEvent,
  type WatchEvent,
} from './upload-actors.js';
import {
  USER_EVENT_POLICY,
  USER_EVENT_TYPES,
  refusal,
  type UploadPhase,
  type UserEvent,
} from './upload-events.js';
import {
  aboutFile,
  acceptFiles,
  allUploaded,
  applyState,
  attach,
  batchIndexOf,
  checkAgainst,
  entriesFor,
  firstFileError,
  markRegistering,
  markUploading,
  nextToRun,
  refusalError,
  registrationFailed,
  registrationsOf,
  removalsDone,
  removeFile,
  retryDue,
  retryFile,
  settledWithError,
  stopTransfers,
  transferDone,
  transferFailed,
  transferProgress,
  unregistered,
  waitingForSources,
  type FileRemoval,
  type TransferOutcome,
  type UploadFileEntry,
} from './upload-files.js';
import { DEFAULT_RETRY, backoffDelay, classifyFailure, type RetryPolicy } from './upload-retry.js';
import { checkFiles } from './upload-validate.js';

/** What a state of the upload machine stands for in the database. */
export interface UploadStateMeta {
  /** The entity's database status while in this state; `null`: no row yet, or not known yet. */
  status: UploadStatus | null;
  /** The state learns the status from the database rather than causing it (loading, suspended). */
  observed?: boolean;
}

/** Per-upload options: concurrency, retry policy. */
export interface UploadOptions {
  concurrency: number;
  autoFinalize: boolean;
  retry: RetryPolicy;
}

/** Input of the upload machine: the kind to create or the entity to resume, and options. */
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

/** The upload machine's context (read it through the selectors). */
export interface UploadContext {
  kind: string | null;
  metadata: Record<string, unknown>;
  /** Kept while a create's outcome is unknown (a lost answer), so repeating it is harmless. */
  idempotencyKey: string | null;
  entityId: string | null;
  /** The last status the database reported. */
  status: UploadStatus | null;
  attempt: number;
  maxAttempts: number;
  requirements: FileRequirement[] | null;
  files: UploadFileEntry[];
  /** The processing jobs of the current attempt, as the database last reported them. */
  jobs: UploadJob[];
  /** Files removed locally whose database row must go before finalize. Persisted. */
  removals: FileRemoval[];
  /** Default keys handed out so far (`f{n}`). */
  sequence: number;
  /** The current problem, typed (`null` exactly when there is none). */
  error: SerializedUploadError | null;
  finalizeFailures: number;
  /** Registration or removal calls failed in a row (reset by a success). */
  syncFailures: number;
  /** Set when finalize was refused; auto-finalize waits for an explicit FINALIZE. */
  halted: boolean;
  /** CANCEL arrived while a call was in flight: cancel once it answers, if still running. */
  cancelRequested: boolean;
  /** DISCARD arrived while a call was in flight: delete once it answers, unless completed. */
  discardRequested: boolean;
  /**
   * `delete_upload` was sent and no answer since showed the entity: if it turns out missing
   * (UL003), the delete took effect and its answer was lost.
   */
  discardSent: boolean;
  failureReason: string | null;
  options: UploadOptions;
}

type InternalEvent = TransferEvent | WatchEvent | { type: 'FILE.RETRY_DUE'; key: string };

/** Every event the upload machine accepts: user events and its internal ones. */
export type UploadEvent = UserEvent | InternalEvent;

/** What a completed upload is: the entity and its files. */
export interface UploadOutput {
  entityId: string;
  files: UploadFileEntry[];
}

/** Options of {@link createUploadMachine}: the backend and defaults. */
export interface CreateUploadMachineOptions {
  backend: Backend;
  /** Jitter source, `[0, 1)`. Inject a seeded one for deterministic tests. Default `Math.random`. */
  random?: () => number;
  /** Idempotency keys for CREATE. Default `crypto.randomUUID`. */
  generateId?: () => string;
  /**
   * Poll intervals (ms) of the default watcher while `processing` (no `backend.watchUpload`):
   * each in turn, then the last forever. Default `DEFAULT_WATCH_INTERVALS_MS` (250 ms … 15 s).
   */
  watchIntervalsMs?: readonly number[];
  /**
   * Declare each file's SHA-256 at registration, computed from its bytes by `backend.sha256Of`
   * (streamed) before the registration call — for kinds with a `sha256` processor, which then
   * checks the stored bytes against it. Costs one read of each file before its upload starts.
   * Default false. A file already declaring `sha256`, or whose bytes are not attached, is sent as is.
   */
  sha256?: boolean;
}

const transferId = (key: string) => `transfer:${key}`;
const retryTimerId = (key: string) => `retry:${key}`;

function stateOf(event: AnyEventObject): UploadState {
  return (event as unknown as { output: UploadState }).output;
}
function errorOf(event: AnyEventObject): unknown {
  return (event as unknown as { error: unknown }).error;
}
const isCode = (code: string) => (event: AnyEventObject) =>
  (errorOf(event) as { code?: unknown } | null)?.code === code;

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
    jobs: state.jobs ?? [],
  };
}

// Handlers several states share: files change locally wherever the entity can still change,
// and RESUME re-attaches bytes anywhere but in `completed`.
const EDIT_FILES_ADD = { ADD_FILES: { actions: 'addFiles' } } as const;
const EDIT_FILES_REMOVE = {
  REMOVE_FILE: [{ guard: 'knownFile', actions: 'removeFile' }, { actions: 'refuseUnknownFile' }],
} as const;
const ATTACH_SOURCES = {
  RESUME: [{ guard: 'knownSources', actions: 'attachSources' }, { actions: 'refuseUnknownSources' }],
} as const;

/**
 * The states waiting for a call's answer: files change locally, CANCEL and DISCARD wait for the answer,
 * bytes may be re-attached; the rest is refused (USER_EVENT_POLICY).
 */
function whileCalling(phase: UploadPhase) {
  return {
    ...refusals(phase),
    ...EDIT_FILES_ADD,
    ...EDIT_FILES_REMOVE,
    CANCEL: { actions: 'deferCancel' },
    DISCARD: { actions: 'deferDiscard' },
    ...ATTACH_SOURCES,
  } as const;
}

/** Refusals for every user event `phase` refuses, from {@link USER_EVENT_POLICY}. */
function refusals(phase: UploadPhase) {
  const on: Record<string, { actions: ReturnType<typeof assign> }> = {};
  for (const type of USER_EVENT_TYPES) {
    if (USER_EVENT_POLICY[phase][type] === 'refuse') {
      on[type] = { actions: assign({ error: () => refusal(type, phase) }) as never };
    }
  }
  return on;
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
    },
    actors: createUploadActors(
      backend,
      { intervalsMs: options.watchIntervalsMs },
      { sha256: options.sha256 === true },
    ),
    delays: {
      finalizeBackoff: ({ context }) => backoffDelay(context.finalizeFailures, context.options.retry, random),
      syncBackoff: ({ context }) => backoffDelay(context.syncFailures, context.options.retry, random),
    },
    guards: {
      hasEntity: ({ context }) => context.entityId !== null,
      noKind: ({ context, event }) =>
        !(event.type === 'CREATE' && typeof event.kind === 'string' && event.kind !== '') &&
        (context.kind === null || context.kind === ''),
      startRequested: ({ event }) =>
        event.type === 'START' || (event.type === 'CREATE' && event.start === true),
      filesStartable: ({ context }) => !context.files.some((f) => f.status === 'error'),
      readyToStart: ({ context }) =>
        context.requirements !== null &&
        !context.files.some((f) => f.status === 'error') &&
        checkFiles(context.files, context.requirements, { complete: true }) === null,
      cancelRequested: ({ context }) => context.cancelRequested,
      discardRequested: ({ context }) => context.discardRequested,
      entityGone: ({ event }) => isCode('UL003')(event),
      discardTookEffect: ({ context, event }) => context.discardSent && isCode('UL003')(event),
      needsRegistration: ({ context }) => unregistered(context.files).length > 0,
      needsRemoval: ({ context }) => context.removals.some((r) => r.fileId !== null),
      readyToFinalize: ({ context }) =>
        allUploaded(context.files) &&
        context.removals.length === 0 &&
        unregistered(context.files).length === 0,
      autoFinalize: ({ context }) =>
        context.options.autoFinalize &&
        !context.halted &&
        allUploaded(context.files) &&
        context.removals.length === 0,
      filesFailed: ({ context }) => settledWithError(context.files),
      waitingForSources: ({ context }) => waitingForSources(context.files),
      knownFile: ({ context, event }) =>
        (event.type === 'REMOVE_FILE' || event.type === 'RETRY_FILE') &&
        context.files.some((f) => f.key === event.key),
      fileInError: ({ context, event }) =>
        event.type === 'RETRY_FILE' && context.files.some((f) => f.key === event.key && f.status === 'error'),
      knownSources: ({ context, event }) =>
        event.type === 'RESUME' &&
        Object.keys(event.sources ?? {}).every((key) => context.files.some((f) => f.key === key)),
      answeredDraft: ({ event }) => stateOf(event).status === 'draft',
      answeredUploading: ({ event }) => stateOf(event).status === 'uploading',
      answeredCompleted: ({ event }) => stateOf(event).status === 'completed',
      answeredProcessing: ({ event }) => stateOf(event).status === 'processing',
      answeredFailed: ({ event }) => stateOf(event).status === 'failed',
      /** Failed by processing: a required job of the attempt is dead (the sweep or its last failure). */
      answeredProcessingFailure: ({ event }) => {
        const state = stateOf(event);
        return state.status === 'failed' && (state.jobs ?? []).some((j) => j.required && j.status === 'dead');
      },
      transientFinalize: ({ context, event }) =>
        classifyFailure(errorOf(event)) === 'retry' &&
        context.finalizeFailures + 1 < context.options.retry.attempts,
      transientSync: ({ context, event }) =>
        classifyFailure(errorOf(event)) === 'retry' &&
        context.syncFailures + 1 < context.options.retry.attempts,
      transient: ({ event }) => classifyFailure(errorOf(event)) === 'retry',
      outcomeUnknown: ({ event }) =>
        classifyFailure(errorOf(event)) === 'retry' || isCode('UL001')(event) || isCode('UL005')(event),
      batchRefusal: ({ event }) =>
        isCode('UL004')(event) && /^files\[\d+\]: /.test(String((errorOf(event) as Error).message)),
      requirementsNotMet: ({ event }) => isCode('UL002')(event),
    },
    actions: {
      recordError: assign({ error: ({ event }) => serializeError(errorOf(event)) }),
      clearError: assign({ error: null }),
      recordDatabase: assign(({ event }) => ({ ...fromDatabase(stateOf(event)), discardSent: false })),
      applyAnswer: assign(({ context, event, system }) => {
        const bytes = bytesOf(system);
        return applyState(context.files, context.removals, stateOf(event), (key) => bytes.has(key));
      }),
      applyRetryAnswer: assign(({ context, event, system }) => {
        const bytes = bytesOf(system);
        return applyState(context.files, context.removals, stateOf(event), (key) => bytes.has(key), {
          requeueErrors: true,
        });
      }),
      /** After the draft's answer, files added before the requirements were known are checked. */
      checkEarlyFiles: assign(({ context }) => {
        if (!context.requirements) return {};
        const files = checkAgainst(context.files, context.requirements);
        return { files, error: firstFileError(files) };
      }),
      addFiles: enqueueActions(({ context, event, enqueue, system }) => {
        if (event.type !== 'ADD_FILES') return;
        const entries = entriesFor(event.files, context.sequence);
        const acceptance = acceptFiles(context.files, entries, context.requirements);
        const bytes = bytesOf(system);
        for (const entry of acceptance.accepted) {
          bytes.set(entry.key, event.files[entries.indexOf(entry)]!.body);
        }
        enqueue.assign({
          files: [...context.files, ...acceptance.accepted],
          sequence: context.sequence + event.files.length,
          error: refusalError(entries, acceptance),
          ...(acceptance.accepted.length > 0 && { halted: false, finalizeFailures: 0 }),
        });
      }),
      removeFile: enqueueActions(({ context, event, enqueue, system }) => {
        if (event.type !== 'REMOVE_FILE') return;
        enqueue.stopChild(transferId(event.key));
        enqueue.cancel(retryTimerId(event.key));
        bytesOf(system).delete(event.key);
        // The files changed: a finalize that halted may succeed now.
        enqueue.assign({
          ...removeFile(context.files, context.removals, event.key),
          error: null,
          halted: false,
          finalizeFailures: 0,
        });
      }),
      refuseUnknownFile: assign({
        error: ({ event }) =>
          serializeError(
            new InvalidFileError({
              message: `no file with key ${(event as { key?: string }).key} in this upload`,
              hint: 'Use the key of a file in the upload (files[].key).',
            }),
          ),
      }),
      attachSources: enqueueActions(({ context, event, enqueue, system }) => {
        if (event.type !== 'RESUME') return;
        const bytes = bytesOf(system);
        for (const [key, body] of Object.entries(event.sources ?? {})) bytes.set(key, body);
        const files = attach(context.files, (key) => bytes.has(key));
        const attached = files.some((f, i) => f !== context.files[i]);
        // The error stays unless this RESUME fixed something (it may explain a halt).
        enqueue.assign(attached ? { files, error: null } : { files });
      }),
      refuseUnknownSources: assign({
        error: ({ context, event }) => {
          const keys = Object.keys((event as { sources?: object }).sources ?? {});
          const unknown = keys.filter((key) => !context.files.some((f) => f.key === key));
          return serializeError(
            new InvalidFileError({
              message: `RESUME names files this upload does not have: ${unknown.join(', ')}`,
              hint: `Use the keys of files[] (${context.files.map((f) => f.key).join(', ') || 'none yet'}).`,
            }),
          );
        },
      }),
      deferCancel: assign({ cancelRequested: true }),
      deferDiscard: assign({ discardRequested: true }),
      /** Discarded: the files and their bytes are forgotten (transfers stopped on leaving uploading). */
      forgetFiles: enqueueActions(({ context, enqueue, system }) => {
        const bytes = bytesOf(system);
        for (const f of context.files) {
          enqueue.stopChild(transferId(f.key));
          enqueue.cancel(retryTimerId(f.key));
          bytes.delete(f.key);
        }
        enqueue.assign({
          files: [],
          removals: [],
          error: null,
          discardRequested: false,
          discardSent: false,
          cancelRequested: false,
          idempotencyKey: null,
          status: null,
        });
      }),
      /**
       * Completed: no event of a completed upload sends a byte again, so the machine lets go of
       * the files' bytes — an app that keeps finished uploads on screen (their actors alive) holds
       * no file contents (a Uint8Array body is the whole file in memory).
       */
      releaseBytes: ({ system }) => {
        bytesOf(system).clear();
      },
      /** Completed before a deferred DISCARD could run: a completed upload is final; say so, typed. */
      dropStaleDiscard: enqueueActions(({ context, enqueue }) => {
        if (!context.discardRequested) return;
        enqueue.assign({
          discardRequested: false,
          error: refusal('DISCARD', 'completed', 'the upload completed before it could be discarded'),
        });
      }),
      /** Arrived somewhere a deferred CANCEL no longer applies: say so, typed. */
      dropStaleCancel: enqueueActions(({ context, enqueue }, params: { phase: UploadPhase }) => {
        if (!context.cancelRequested) return;
        // The cancel took effect before its answer was lost (a reload mid-cancel): nothing to report.
        if (params.phase === 'failed' && context.failureReason === 'cancelled') {
          enqueue.assign({ cancelRequested: false });
          return;
        }
        enqueue.assign({
          cancelRequested: false,
          error: refusal('CANCEL', params.phase, 'the call in flight answered first'),
        });
      }),
      /**
       * Completed before a deferred removal could run (the entity was final already, or finalize
       * won): the file is part of the entity after all — list it again and say so, typed.
       */
      dropStaleRemovals: enqueueActions(({ context, event, enqueue, system }) => {
        if (context.removals.length === 0) return;
        const state = (event as { output?: UploadState }).output;
        const bytes = bytesOf(system);
        const relisted = state?.files
          ? applyState(context.files, [], state, (key) => bytes.has(key)).files
          : context.files;
        enqueue.assign({
          files: relisted,
          removals: [],
          error: refusal('REMOVE_FILE', 'completed', 'the upload completed before the file could be removed'),
        });
      }),
      startCreate: assign(({ context, event }) => ({
        kind: (event.type === 'CREATE' && event.kind) || context.kind,
        metadata: (event.type === 'CREATE' && event.metadata) || context.metadata,
        idempotencyKey:
          (event.type === 'CREATE' && event.idempotencyKey) || context.idempotencyKey || generateId(),
        error: null,
      })),
      /** A create the database refused created nothing: the next CREATE gets a new key. */
      createRefused: enqueueActions(({ context, event, enqueue, system }) => {
        const failure = errorOf(event);
        const error = serializeError(failure);
        const index = batchIndexOf(error);
        const bad =
          index !== null ? context.files.filter((f) => f.status === 'registering')[index] : undefined;
        const own = { ...error, message: error.message.replace(/^files\[\d+\]: /, '') };
        const bytes = bytesOf(system);
        enqueue.assign({
          idempotencyKey: classifyFailure(failure) === 'retry' ? context.idempotencyKey : null,
          files: registrationFailed(
            context.files,
            (key) => bytes.has(key),
            bad ? { key: bad.key, error: own } : undefined,
          ),
          error: bad ? aboutFile(bad.name, own) : error,
        });
      }),
      markBatch: assign({
        files: ({ context }) =>
          markRegistering(
            context.files,
            unregistered(context.files).map((f) => f.key),
          ),
      }),
      /** A registration batch was refused for one file (`files[i]: …`): that file is in error. */
      batchRefused: enqueueActions(({ context, event, enqueue, system }) => {
        const error = serializeError(errorOf(event));
        const index = batchIndexOf(error);
        const batch = context.files.filter((f) => f.status === 'registering');
        const bad = index !== null ? batch[index] : undefined;
        const own = { ...error, message: error.message.replace(/^files\[\d+\]: /, '') };
        const bytes = bytesOf(system);
        enqueue.assign({
          files: registrationFailed(
            context.files,
            (key) => bytes.has(key),
            bad ? { key: bad.key, error: own } : undefined,
          ),
          error: bad ? aboutFile(bad.name, own) : error,
        });
      }),
      batchFailed: assign(({ context, event, system }) => {
        const bytes = bytesOf(system);
        return {
          files: registrationFailed(context.files, (key) => bytes.has(key)),
          error: serializeError(errorOf(event)),
          syncFailures: context.syncFailures + 1,
        };
      }),
      /** Registration failed for good: the unregistered files are in error (the upload fails). */
      batchGaveUp: assign(({ context, event }) => {
        const error = serializeError(errorOf(event));
        return {
          files: context.files.map((f) =>
            f.status === 'registering'
              ? { ...f, status: 'error' as const, failures: f.failures + 1, error }
              : f,
          ),
          error,
          syncFailures: 0,
        };
      }),
      syncSucceeded: assign({ syncFailures: 0 }),
      removalsDone: assign({
        removals: ({ context, event }) =>
          removalsDone(context.removals, (event as unknown as { output: string[] }).output),
        syncFailures: 0,
      }),
      syncFailed: assign({
        error: ({ event }) => serializeError(errorOf(event)),
        syncFailures: ({ context }) => context.syncFailures + 1,
      }),
      /** Starts the queued files that fit in `concurrency`, each as a `transfer:{key}` actor. */
      schedule: enqueueActions(({ context, enqueue }) => {
        const next = nextToRun(context.files, context.options.concurrency);
        for (const f of next) {
          enqueue.spawnChild('transfer', {
            id: transferId(f.key),
            input: {
              key: f.key,
              bucketId: f.bucketId!,
              objectPath: f.objectPath!,
              size: f.size,
              type: f.type,
              upsert: f.replace === true,
            },
          });
        }
        if (next.length > 0) {
          enqueue.assign({
            files: markUploading(
              context.files,
              next.map((f) => f.key),
            ),
          });
        }
      }),
      /** Leaving `uploading`: every transfer and retry timer stops; files wait as `queued`. */
      stopTransfers: enqueueActions(({ context, enqueue }) => {
        for (const f of context.files) {
          if (f.status === 'uploading') enqueue.stopChild(transferId(f.key));
          if (f.status === 'retrying') enqueue.cancel(retryTimerId(f.key));
        }
        enqueue.assign({ files: stopTransfers(context.files) });
      }),
      transferProgress: assign({
        files: ({ context, event }) =>
          event.type === 'TRANSFER.PROGRESS'
            ? transferProgress(context.files, event.key, event.bytesSent)
            : context.files,
      }),
      transferDone: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'TRANSFER.DONE') return;
        enqueue.stopChild(transferId(event.key));
        enqueue.assign({ files: transferDone(context.files, event.key) });
      }),
      transferFailed: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'TRANSFER.ERROR') return;
        const entry = context.files.find((f) => f.key === event.key);
        if (!entry || entry.status !== 'uploading') return;
        enqueue.stopChild(transferId(event.key));
        const failure = classifyFailure(event.error);
        const outcome: TransferOutcome =
          event.error instanceof MissingSourceError
            ? 'detached'
            : failure === 'exists'
              ? 'uploaded'
              : failure === 'aborted'
                ? 'queued'
                : failure === 'retry' && entry.failures + 1 < context.options.retry.attempts
                  ? 'retrying'
                  : 'error';
        enqueue.assign({
          files: transferFailed(context.files, event.key, outcome, serializeError(event.error)),
        });
        if (outcome === 'retrying') {
          enqueue.raise(
            { type: 'FILE.RETRY_DUE', key: event.key },
            {
              id: retryTimerId(event.key),
              delay: backoffDelay(entry.failures + 1, context.options.retry, random),
            },
          );
        }
      }),
      retryDue: assign({
        files: ({ context, event }) =>
          event.type === 'FILE.RETRY_DUE' ? retryDue(context.files, event.key) : context.files,
      }),
      retryFile: assign(({ context, event, system }) =>
        event.type === 'RETRY_FILE'
          ? { files: retryFile(context.files, event.key, bytesOf(system).has(event.key)), error: null }
          : {},
      ),
      refuseRetryFile: assign({
        error: ({ event }) =>
          refusal('RETRY_FILE', 'uploading', `file ${(event as { key?: string }).key} is not in error`),
      }),
      refuseFinalize: assign({
        error: ({ context }) =>
          refusal(
            'FINALIZE',
            'uploading',
            context.removals.length > 0
              ? 'removed files are still being deleted'
              : `${context.files.filter((f) => f.status !== 'uploaded').length} file(s) not uploaded yet`,
          ),
      }),
      refuseStart: assign({
        error: ({ context }) => {
          const invalid = firstFileError(context.files.filter((f) => f.status === 'error'));
          if (invalid) return invalid;
          return serializeError(
            context.requirements
              ? checkFiles(context.files, context.requirements, { complete: true })
              : new InvalidFileError({ message: 'requirements unknown', hint: 'Create the draft first.' }),
          );
        },
      }),
      refuseNoKind: assign({
        error: () =>
          serializeError(
            new InvalidFileError({
              message: 'no kind: the upload does not know what to create',
              hint: 'Pass kind in the input or in CREATE.',
            }),
          ),
      }),
      /** The database failed the entity while processing: its reason, typed. */
      processingFailed: assign({
        error: ({ event }) => {
          const state = stateOf(event);
          const failedJobs = (state.jobs ?? []).filter((j) => j.status === 'failed' || j.status === 'dead');
          return serializeError(
            new ProcessingFailedError({
              // The database's reason already says "processing failed: file …, processor …".
              message: (state.failureReason ?? 'no reason recorded').startsWith('processing failed')
                ? state.failureReason!
                : `processing failed: ${state.failureReason ?? 'no reason recorded'}`,
              detail:
                failedJobs.map((j) => `file ${j.fileId}: ${j.processor} ${j.status}`).join('\n') || undefined,
              hint: 'Fix the file and RETRY (a new attempt), or DISCARD the upload.',
            }),
          );
        },
      }),
      suspendForSources: assign({
        error: ({ context }) =>
          serializeError(
            new MissingSourceError({
              message: `the bytes of ${context.files
                .filter((f) => f.status === 'detached')
                .map((f) => `${f.name} (${f.key})`)
                .join(', ')} are not here`,
              hint: 'Send RESUME with sources: { [key]: file } for these files, or remove them.',
            }),
          ),
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
      jobs: [],
      removals: [],
      sequence: 0,
      error: null,
      finalizeFailures: 0,
      syncFailures: 0,
      halted: false,
      cancelRequested: false,
      discardRequested: false,
      discardSent: false,
      failureReason: null,
      options: {
        concurrency: Math.max(1, input?.concurrency ?? 3),
        autoFinalize: input?.autoFinalize ?? true,
        retry: { ...DEFAULT_RETRY, ...input?.retry },
      },
    }),
    states: {
      idle: {
        meta: { status: null } satisfies UploadStateMeta,
        always: [
          { guard: 'hasEntity', target: 'loading' },
          // A deferred DISCARD whose create was refused: there is nothing in the database.
          { guard: 'discardRequested', target: 'discarded', actions: 'forgetFiles' },
        ],
        on: {
          ...refusals('idle'),
          // No entity yet: nothing to delete, only local files to forget.
          DISCARD: { target: 'discarded', actions: 'forgetFiles' },
          CREATE: [
            { guard: 'noKind', actions: 'refuseNoKind' },
            { guard: 'startRequested', target: 'creating.withFiles', actions: 'startCreate' },
            { target: 'creating.plain', actions: 'startCreate' },
          ],
          START: [
            { guard: 'noKind', actions: 'refuseNoKind' },
            { guard: 'filesStartable', target: 'creating.withFiles', actions: 'startCreate' },
            { actions: 'refuseStart' },
          ],
          ...EDIT_FILES_ADD,
          ...EDIT_FILES_REMOVE,
          ...ATTACH_SOURCES,
        },
      },
      creating: {
        meta: { status: null } satisfies UploadStateMeta,
        initial: 'plain',
        states: {
          // The one-shot START: create, begin and register in one call.
          plain: {
            invoke: {
              id: 'createDraft',
              src: 'createDraft',
              input: ({ context }) => ({
                kind: context.kind ?? '',
                metadata: context.metadata,
                idempotencyKey: context.idempotencyKey,
              }),
              onDone: [
                {
                  guard: 'answeredDraft',
                  target: '#upload.draft',
                  actions: ['recordDatabase', 'applyAnswer', 'checkEarlyFiles'],
                },
                // A replayed key whose entity moved on: read it properly.
                { target: '#upload.loading', actions: 'recordDatabase' },
              ],
              onError: { target: '#upload.idle', actions: 'createRefused' },
            },
          },
          withFiles: {
            entry: 'markBatch',
            invoke: {
              id: 'createDraft',
              src: 'createDraft',
              input: ({ context }) => ({
                kind: context.kind ?? '',
                metadata: context.metadata,
                idempotencyKey: context.idempotencyKey,
                startUpload: true,
                files: registrationsOf(context.files.filter((f) => f.status === 'registering')),
              }),
              onDone: [
                {
                  guard: 'answeredUploading',
                  target: '#upload.uploading',
                  actions: ['recordDatabase', 'applyAnswer'],
                },
                { target: '#upload.loading', actions: 'recordDatabase' },
              ],
              onError: { target: '#upload.idle', actions: 'createRefused' },
            },
          },
        },
        on: {
          ...whileCalling('creating'),
        },
      },
      draft: {
        meta: { status: 'draft' } satisfies UploadStateMeta,
        entry: { type: 'dropStaleCancel', params: { phase: 'draft' } },
        always: { guard: 'discardRequested', target: 'discarding' },
        on: {
          ...refusals('draft'),
          DISCARD: { target: 'discarding' },
          START: [
            { guard: 'readyToStart', target: 'starting', actions: 'clearError' },
            { actions: 'refuseStart' },
          ],
          ...EDIT_FILES_ADD,
          ...EDIT_FILES_REMOVE,
          ...ATTACH_SOURCES,
        },
      },
      starting: {
        meta: { status: 'draft' } satisfies UploadStateMeta,
        entry: 'markBatch',
        invoke: {
          id: 'startUpload',
          src: 'startUpload',
          input: ({ context }) => ({
            entityId: context.entityId!,
            files: registrationsOf(context.files.filter((f) => f.status === 'registering')),
          }),
          onDone: [
            { guard: 'answeredUploading', target: 'uploading', actions: ['recordDatabase', 'applyAnswer'] },
            { target: 'loading', actions: 'recordDatabase' },
          ],
          onError: [
            { guard: 'batchRefusal', target: 'draft', actions: 'batchRefused' },
            // A lost answer, or the entity is no longer a draft (another tab): read where it is.
            { guard: 'outcomeUnknown', target: 'loading', actions: ['batchFailed', 'recordError'] },
            // Refused (e.g. UL003: the sweep deleted the draft): start_upload did nothing.
            { target: 'draft', actions: ['batchFailed', 'recordError'] },
          ],
        },
        on: {
          ...whileCalling('starting'),
        },
      },
      uploading: {
        meta: { status: 'uploading' } satisfies UploadStateMeta,
        entry: 'schedule',
        exit: 'stopTransfers',
        always: [
          { guard: 'discardRequested', target: 'discarding' },
          { guard: 'cancelRequested', target: 'cancelling', actions: assign({ cancelRequested: false }) },
        ],
        initial: 'running',
        states: {
          running: {
            always: [
              { guard: 'needsRegistration', target: 'registering' },
              { guard: 'needsRemoval', target: 'removing' },
              { guard: 'autoFinalize', target: '#upload.finalizing' },
              { guard: 'filesFailed', target: '#upload.failing' },
              { guard: 'waitingForSources', target: '#upload.suspended', actions: 'suspendForSources' },
            ],
          },
          registering: {
            entry: 'markBatch',
            invoke: {
              id: 'registerFiles',
              src: 'registerFiles',
              input: ({ context }) => ({
                entityId: context.entityId!,
                files: registrationsOf(context.files.filter((f) => f.status === 'registering')),
              }),
              onDone: {
                target: 'running',
                actions: ['recordDatabase', 'applyAnswer', 'syncSucceeded', 'schedule'],
              },
              onError: [
                { guard: 'batchRefusal', target: 'running', actions: 'batchRefused' },
                { guard: 'transientSync', target: 'backoff', actions: 'batchFailed' },
                { guard: 'transient', target: 'running', actions: 'batchGaveUp' },
                // Refused for the entity (expired, failed elsewhere): read where it is.
                { target: '#upload.loading', actions: ['batchFailed', 'recordError'] },
              ],
            },
          },
          removing: {
            invoke: {
              id: 'removeFiles',
              src: 'removeFiles',
              input: ({ context }) => ({
                entityId: context.entityId!,
                fileIds: context.removals.flatMap((r) => (r.fileId ? [r.fileId] : [])),
              }),
              onDone: { target: 'running', actions: 'removalsDone' },
              onError: [
                { guard: 'transientSync', target: 'backoff', actions: 'syncFailed' },
                { target: '#upload.loading', actions: 'recordError' },
              ],
            },
          },
          backoff: {
            after: { syncBackoff: 'running' },
          },
        },
        on: {
          ...refusals('uploading'),
          'TRANSFER.PROGRESS': { actions: 'transferProgress' },
          'TRANSFER.DONE': { actions: ['transferDone', 'schedule'] },
          'TRANSFER.ERROR': { actions: ['transferFailed', 'schedule'] },
          'FILE.RETRY_DUE': { actions: ['retryDue', 'schedule'] },
          ...EDIT_FILES_ADD,
          REMOVE_FILE: [
            { guard: 'knownFile', actions: ['removeFile', 'schedule'] },
            { actions: 'refuseUnknownFile' },
          ],
          RETRY_FILE: [
            { guard: 'fileInError', actions: ['retryFile', 'schedule'] },
            { guard: 'knownFile', actions: 'refuseRetryFile' },
            { actions: 'refuseUnknownFile' },
          ],
          RESUME: [
            { guard: 'knownSources', actions: ['attachSources', 'schedule'] },
            { actions: 'refuseUnknownSources' },
          ],
          FINALIZE: [
            {
              guard: 'readyToFinalize',
              target: 'finalizing',
              actions: assign({ halted: false, finalizeFailures: 0, error: null }),
            },
            { actions: 'refuseFinalize' },
          ],
          CANCEL: { target: 'cancelling' },
          // delete_upload accepts an uploading row; leaving `uploading` aborts the transfers.
          DISCARD: { target: 'discarding' },
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
                {
                  guard: 'answeredCompleted',
                  target: '#upload.completed',
                  actions: ['recordDatabase', 'applyAnswer', 'clearError'],
                },
                // The kind has required processors: the database completes it once they are done.
                {
                  guard: 'answeredProcessing',
                  target: '#upload.processing',
                  actions: ['recordDatabase', 'applyAnswer', 'clearError'],
                },
                { target: '#upload.loading', actions: 'recordDatabase' },
              ],
              onError: [
                {
                  guard: 'transientFinalize',
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
        on: {
          ...refusals('finalizing'),
          CANCEL: { actions: 'deferCancel' },
          DISCARD: { actions: 'deferDiscard' },
          ...ATTACH_SOURCES,
        },
      },
      // Finalized; the database runs the kind's processors and alone decides completed or failed.
      // The watcher (backend.watchUpload, else polling get_upload_state) reports each state.
      processing: {
        meta: { status: 'processing' } satisfies UploadStateMeta,
        entry: { type: 'dropStaleCancel', params: { phase: 'processing' } },
        // delete_upload accepts a processing entity: a DISCARD deferred while finalizing applies.
        always: { guard: 'discardRequested', target: 'discarding' },
        invoke: {
          id: 'watchUpload',
          src: 'watchUpload',
          input: ({ context }) => ({ entityId: context.entityId! }),
        },
        on: {
          ...refusals('processing'),
          DISCARD: { target: 'discarding' },
          ...ATTACH_SOURCES,
          'WATCH.STATE': [
            { guard: 'answeredProcessing', actions: ['recordDatabase', 'applyAnswer'] },
            { guard: 'answeredCompleted', target: 'completed', actions: ['recordDatabase', 'applyAnswer'] },
            {
              guard: 'answeredFailed',
              target: 'failed',
              actions: ['recordDatabase', 'applyAnswer', 'processingFailed'],
            },
            // Another status (retried elsewhere): read it as after a reload.
            { target: 'loading', actions: 'recordDatabase' },
          ],
          // The watch ended without an answer (the entity is gone): read where it is.
          'WATCH.ERROR': { target: 'loading', actions: 'recordError' },
        },
      },
      completed: {
        meta: { status: 'completed' } satisfies UploadStateMeta,
        entry: [
          'dropStaleRemovals',
          { type: 'dropStaleCancel', params: { phase: 'completed' } },
          'dropStaleDiscard',
          'releaseBytes',
        ],
        on: {
          ...refusals('completed'),
          'WATCH.STATE': { actions: ['recordDatabase', 'applyAnswer'] },
          // The entity was deleted meanwhile (UL003): the upload stays completed, as it was.
          'WATCH.ERROR': {},
        },
        // Optional jobs (variants such as thumbnails) may run on after `completed`: the upload
        // stays `completed` and watches them until each has ended, so `selectJobs` shows their
        // final status and artifacts. Nothing to watch (no job still running): no call at all.
        invoke: {
          id: 'watchVariants',
          src: 'watchUpload',
          input: ({ context }) => ({
            entityId: context.entityId!,
            variants: true,
            skip: !(context.jobs ?? []).some((j) => !['complete', 'dead', 'cancelled'].includes(j.status)),
          }),
        },
      },
      cancelling: {
        meta: { status: 'uploading' } satisfies UploadStateMeta,
        invoke: {
          id: 'failUpload',
          src: 'failUpload',
          input: ({ context }) => ({ entityId: context.entityId!, reason: 'cancelled' }),
          onDone: { target: 'failed', actions: ['recordDatabase', 'applyAnswer'] },
          // The answer is lost or refused: read where the entity is; the cancel stays requested.
          onError: { target: 'loading', actions: ['recordError', 'deferCancel'] },
        },
        on: {
          ...refusals('cancelling'),
          DISCARD: { actions: 'deferDiscard' },
          ...EDIT_FILES_ADD,
          ...EDIT_FILES_REMOVE,
          ...ATTACH_SOURCES,
        },
      },
      failing: {
        meta: { status: 'uploading' } satisfies UploadStateMeta,
        invoke: {
          id: 'failUpload',
          src: 'failUpload',
          input: ({ context }) => ({ entityId: context.entityId!, reason: 'client_error' }),
          onDone: { target: 'failed', actions: ['recordDatabase', 'applyAnswer'] },
          onError: { target: 'loading', actions: 'recordError' },
        },
        on: {
          ...refusals('failing'),
          DISCARD: { actions: 'deferDiscard' },
          ...EDIT_FILES_ADD,
          ...EDIT_FILES_REMOVE,
          ...ATTACH_SOURCES,
        },
      },
      failed: {
        meta: { status: 'failed' } satisfies UploadStateMeta,
        entry: { type: 'dropStaleCancel', params: { phase: 'failed' } },
        always: { guard: 'discardRequested', target: 'discarding' },
        on: {
          ...refusals('failed'),
          DISCARD: { target: 'discarding' },
          RETRY: { target: 'retrying', actions: 'clearError' },
          ...EDIT_FILES_ADD,
          ...EDIT_FILES_REMOVE,
          ...ATTACH_SOURCES,
        },
      },
      retrying: {
        meta: { status: 'failed' } satisfies UploadStateMeta,
        invoke: {
          id: 'retryUpload',
          src: 'retryUpload',
          input: ({ context }) => ({ entityId: context.entityId! }),
          onDone: [
            {
              guard: 'answeredUploading',
              target: 'uploading',
              actions: [
                'recordDatabase',
                'applyRetryAnswer',
                assign({ error: null, halted: false, finalizeFailures: 0, syncFailures: 0 }),
              ],
            },
            { target: 'loading', actions: 'recordDatabase' },
          ],
          // A lost answer or a refusal (UL006): read where the entity is.
          onError: { target: 'loading', actions: 'recordError' },
        },
        on: {
          ...whileCalling('retrying'),
        },
      },
      loading: {
        meta: { status: null, observed: true } satisfies UploadStateMeta,
        invoke: {
          id: 'getUploadState',
          src: 'getUploadState',
          input: ({ context }) => ({ entityId: context.entityId! }),
          onDone: [
            { guard: 'answeredDraft', target: 'draft', actions: ['recordDatabase', 'applyAnswer'] },
            { guard: 'answeredUploading', target: 'uploading', actions: ['recordDatabase', 'applyAnswer'] },
            { guard: 'answeredCompleted', target: 'completed', actions: ['recordDatabase', 'applyAnswer'] },
            // Finalized before (a reload, another tab): watch the processing again.
            { guard: 'answeredProcessing', target: 'processing', actions: ['recordDatabase', 'applyAnswer'] },
            // Failed by processing before this actor looked: the same typed reason as when watched.
            {
              guard: 'answeredProcessingFailure',
              target: 'failed',
              actions: ['recordDatabase', 'applyAnswer', 'processingFailed'],
            },
            { target: 'failed', actions: ['recordDatabase', 'applyAnswer'] },
          ],
          onError: [
            // The delete's answer was lost, and the entity is gone: it was discarded.
            { guard: 'discardTookEffect', target: 'discarded', actions: 'forgetFiles' },
            { target: 'suspended', actions: 'recordError' },
          ],
        },
        on: {
          ...whileCalling('loading'),
        },
      },
      suspended: {
        meta: { status: null, observed: true } satisfies UploadStateMeta,
        // A deferred DISCARD waits here like a deferred CANCEL: RESUME reads the entity and it
        // applies; DISCARD applies at once.
        on: {
          ...refusals('suspended'),
          DISCARD: { target: 'discarding', actions: 'clearError' },
          RESUME: [
            { guard: 'knownSources', target: 'loading', actions: 'attachSources' },
            { actions: 'refuseUnknownSources' },
          ],
          ...EDIT_FILES_ADD,
          ...EDIT_FILES_REMOVE,
          CANCEL: { target: 'cancelling', actions: 'clearError' },
        },
      },
      // Deleting the row (`delete_upload`); the database queues its objects for removal.
      discarding: {
        meta: { status: null } satisfies UploadStateMeta,
        // A CANCEL deferred before stays requested: if the delete fails, it still applies.
        entry: assign({ discardRequested: false, discardSent: true }),
        invoke: {
          id: 'deleteUpload',
          src: 'deleteUpload',
          input: ({ context }) => ({ entityId: context.entityId! }),
          onDone: { target: 'discarded', actions: 'forgetFiles' },
          onError: [
            // Already gone (a lost answer repeated, or the sweep deleted it): discarded all the same.
            { guard: 'entityGone', target: 'discarded', actions: 'forgetFiles' },
            // Refused (UL005: completed meanwhile) or unanswered: read where it is, error kept.
            // Auto-finalize waits for an explicit FINALIZE: a discarded upload must not complete
            // on its own because the delete went unanswered. DISCARD again deletes it.
            { target: 'loading', actions: ['recordError', assign({ halted: true })] },
          ],
        },
        on: refusals('discarding'),
      },
      // The entity is deleted (or never existed): like `completed`, every later event is refused.
      discarded: {
        meta: { status: null } satisfies UploadStateMeta,
        on: refusals('discarded'),
      },
    },
  });
}

/** The machine {@link createUploadMachine} returns. */
export type UploadMachine = ReturnType<typeof createUploadMachine>;
export type { UploadPhase };

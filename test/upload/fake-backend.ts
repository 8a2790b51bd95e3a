/**
 * An in-memory Backend with the RPC semantics of docs/rpc.md (status checks, attempts, idempotent
 * finalize, idempotency and file keys), byte transfers it can stall or fail on demand, faults
 * before or after the call takes effect (a lost answer), and a log of every call. For unit tests
 * of the machine; the model-based suite runs the machine on the real SQL (PGlite).
 */
import {
  EntityNotFoundError,
  ForbiddenTransitionError,
  AttemptsExhaustedError,
  NotAcceptingError,
  RequirementsNotMetError,
} from '../../src/errors.js';
import {
  abortError,
  networkError,
  type Backend,
  type FileRegistration,
  type FileRequirement,
  type ObjectTransfer,
  type UploadState,
  type UploadStateFile,
} from '../../src/adapters/backend.js';
import { checkFile } from '../../src/machines/upload-validate.js';
import { InvalidFileError } from '../../src/errors.js';

export const REQUIREMENTS: FileRequirement[] = [
  { slot: 'document', minCount: 1, maxCount: 1, maxBytes: 10_000, allowedMimeTypes: ['application/pdf'] },
  { slot: 'photos', minCount: 0, maxCount: 5, maxBytes: 5_000, allowedMimeTypes: ['image/*'] },
];

interface Entity {
  state: UploadState;
  transitions: string[];
}

type Method = keyof Omit<Backend, 'name'>;

interface Fault {
  error: unknown;
  /** The call takes effect first, then its answer is lost. */
  afterCommit: boolean;
}

/** Controls a transfer in flight: resolve or fail it by hand. */
export interface PendingTransfer {
  transfer: ObjectTransfer;
  finish(): void;
  fail(error: unknown): void;
}

export function createFakeBackend(options: { maxAttempts?: number; requirements?: FileRequirement[] } = {}) {
  const requirements = options.requirements ?? REQUIREMENTS;
  const entities = new Map<string, Entity>();
  const objects = new Map<string, { size: number; mime: string }>();
  const calls: { method: Method; args: unknown[] }[] = [];
  const faults = new Map<Method, Fault[]>();
  /** Transfers stall here when `stallTransfers` is on. */
  const pending: PendingTransfer[] = [];
  const pendingWaiters: { n: number; resolve: () => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let ids = 0;
  const control = {
    stallTransfers: false,
    /** Set by `finalizeCommitsThenFails`: the next finalize commits, then its answer is lost. */
    loseNextFinalizeAnswer: false,
    bytesReceived: 0,
  };

  const entity = (id: string) => {
    const e = entities.get(id);
    if (!e) throw new EntityNotFoundError({ message: 'entity not found' });
    return e;
  };
  const snapshot = (e: Entity): UploadState => ({
    ...e.state,
    files: e.state.files.map((f) => {
      const o = objects.get(f.objectPath);
      return {
        ...f,
        objectExists: !!o,
        objectMatches: !!o && o.size === f.declaredSize && o.mime === f.declaredMime,
      };
    }),
  });
  const move = (e: Entity, to: UploadState['status'], event: string) => {
    e.transitions.push(`${e.state.status}->${to}:${event}`);
    e.state = { ...e.state, status: to };
  };
  const injected = (method: Method) => {
    const queue = faults.get(method);
    if (queue && queue.length > 0 && !queue[0]!.afterCommit) throw queue.shift()!.error;
  };
  const lostAnswer = (method: Method) => {
    const queue = faults.get(method);
    if (queue && queue.length > 0 && queue[0]!.afterCommit) throw queue.shift()!.error;
  };

  async function call<T>(method: Method, args: unknown[], fn: () => T): Promise<T> {
    calls.push({ method, args });
    await Promise.resolve();
    injected(method);
    const result = fn();
    lostAnswer(method);
    return result;
  }

  const register = (e: Entity, file: FileRegistration) => {
    if (e.state.status !== 'uploading') throw new NotAcceptingError({ message: 'not uploading' });
    const same = file.key !== undefined ? e.state.files.find((f) => f.key === file.key) : undefined;
    if (same) {
      if (same.slot !== file.slot || same.originalName !== file.filename || same.declaredSize !== file.size) {
        throw new InvalidFileError({
          message: `file_key ${file.key} is already registered for another file`,
        });
      }
      return same;
    }
    const problem = checkFile(
      { slot: file.slot, name: file.filename, size: file.size, type: file.mime },
      requirements,
    );
    if (problem) throw problem;
    const slotCount = e.state.files.filter((f) => f.slot === file.slot).length;
    if (slotCount >= requirements.find((r) => r.slot === file.slot)!.maxCount) {
      throw new InvalidFileError({ message: 'too many files' });
    }
    const fileId = `file${++ids}`;
    const row: UploadStateFile = {
      fileId,
      key: file.key ?? fileId,
      slot: file.slot,
      originalName: file.filename,
      declaredSize: file.size,
      declaredMime: file.mime,
      sha256: file.sha256 ?? null,
      bucketId: 'bucket',
      objectPath: `owner/${e.state.entityId}/${fileId}`,
      verifiedAt: null,
      objectExists: false,
      objectMatches: false,
    };
    e.state.files.push(row);
    return row;
  };
  /** All or nothing, like the SQL batch: a bad file names its index. */
  const registerAll = (e: Entity, files: readonly FileRegistration[]) => {
    const before = e.state.files;
    e.state.files = [...before];
    files.forEach((file, i) => {
      try {
        register(e, file);
      } catch (error) {
        e.state.files = before;
        if (error instanceof InvalidFileError) {
          throw new InvalidFileError({ message: `files[${i}]: ${error.message}` });
        }
        throw error;
      }
    });
  };

  const backend = {
    name: 'fake',
    createDraft: (input) =>
      call('createDraft', [input], () => {
        const existing = [...entities.values()].find(
          (e) => input.idempotencyKey && e.state.metadata.__key === input.idempotencyKey,
        );
        if (existing) {
          const { __key: _key, ...metadata } = existing.state.metadata;
          if (
            existing.state.kind !== input.kind ||
            JSON.stringify(metadata) !== JSON.stringify(input.metadata ?? {})
          ) {
            throw new InvalidFileError({
              message: `idempotency_key ${input.idempotencyKey} was already used with other parameters`,
            });
          }
          return snapshot(existing);
        }
        const id = `e${++ids}`;
        const e: Entity = {
          transitions: ['->draft:create'],
          state: {
            entityId: id,
            kind: input.kind,
            status: 'draft',
            attempt: 0,
            maxAttempts: options.maxAttempts ?? 3,
            failureReason: null,
            metadata: { ...input.metadata, __key: input.idempotencyKey },
            createdAt: '',
            updatedAt: '',
            completedAt: null,
            requirements,
            files: [],
            jobs: [],
          },
        };
        if (input.startUpload) {
          move(e, 'uploading', 'begin_upload');
          e.state.attempt = 1;
          registerAll(e, input.files ?? []);
        }
        entities.set(id, e);
        return snapshot(e);
      }),
    startUpload: (entityId, files) =>
      call('startUpload', [entityId, files], () => {
        const e = entity(entityId);
        const before = { status: e.state.status, attempt: e.state.attempt, transitions: [...e.transitions] };
        if (e.state.status !== 'uploading') {
          if (e.state.status !== 'draft') throw new ForbiddenTransitionError({ message: 'not a draft' });
          move(e, 'uploading', 'begin_upload');
          e.state.attempt = 1;
        }
        try {
          registerAll(e, files);
        } catch (error) {
          e.state = { ...e.state, status: before.status, attempt: before.attempt };
          e.transitions = before.transitions;
          throw error;
        }
        return snapshot(e);
      }),
    registerFiles: (entityId, files) =>
      call('registerFiles', [entityId, files], () => {
        const e = entity(entityId);
        registerAll(e, files);
        return snapshot(e);
      }),
    beginUpload: (entityId) =>
      call('beginUpload', [entityId], () => {
        const e = entity(entityId);
        if (e.state.status !== 'draft') throw new ForbiddenTransitionError({ message: 'not a draft' });
        move(e, 'uploading', 'begin_upload');
        e.state.attempt = 1;
        return snapshot(e);
      }),
    registerFile: (entityId, file) =>
      call('registerFile', [entityId, file], () => {
        const row = register(entity(entityId), file);
        return { fileId: row.fileId, key: row.key, bucketId: row.bucketId, objectPath: row.objectPath };
      }),
    removeFile: (entityId, fileId) =>
      call('removeFile', [entityId, fileId], () => {
        const e = entity(entityId);
        if (e.state.status !== 'uploading') throw new NotAcceptingError({ message: 'not uploading' });
        if (!e.state.files.some((f) => f.fileId === fileId))
          throw new EntityNotFoundError({ message: 'file not found' });
        e.state.files = e.state.files.filter((f) => f.fileId !== fileId);
        return snapshot(e);
      }),
    uploadObject: async (transfer) => {
      calls.push({ method: 'uploadObject', args: [transfer.objectPath] });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await Promise.resolve();
        injected('uploadObject');
        if (control.stallTransfers) {
          await new Promise<void>((resolve, reject) => {
            const entry: PendingTransfer = { transfer, finish: resolve, fail: reject };
            pending.push(entry);
            for (const w of pendingWaiters.filter((w) => pending.length >= w.n)) w.resolve();
            transfer.signal.addEventListener('abort', () => reject(abortError()), { once: true });
          });
        }
        if (transfer.signal.aborted) throw abortError();
        const half = Math.floor(transfer.size / 2);
        transfer.onProgress?.(half, transfer.size);
        transfer.onProgress?.(transfer.size, transfer.size);
        control.bytesReceived += transfer.size;
        objects.set(transfer.objectPath, { size: transfer.size, mime: transfer.contentType });
      } finally {
        inFlight--;
      }
    },
    finalizeUpload: (entityId) =>
      call('finalizeUpload', [entityId], () => {
        const e = entity(entityId);
        if (e.state.status === 'completed') return snapshot(e);
        if (e.state.status !== 'uploading') throw new ForbiddenTransitionError({ message: 'not uploading' });
        const s = snapshot(e);
        const missing = s.files.filter((f) => !f.objectMatches).map((f) => f.fileId);
        const short = requirements.filter(
          (r) => s.files.filter((f) => f.slot === r.slot).length < r.minCount,
        );
        if (missing.length > 0 || short.length > 0) {
          throw new RequirementsNotMetError({
            message: 'requirements not met',
            detail: [...missing, ...short.map((r) => r.slot)].join('\n'),
          });
        }
        move(e, 'completed', 'finalize');
        if (control.loseNextFinalizeAnswer) {
          control.loseNextFinalizeAnswer = false;
          throw networkError(new Error('socket hang up'));
        }
        return snapshot(e);
      }),
    failUpload: (entityId, reason) =>
      call('failUpload', [entityId, reason], () => {
        const e = entity(entityId);
        if (e.state.status !== 'uploading') throw new ForbiddenTransitionError({ message: 'not uploading' });
        move(e, 'failed', 'fail');
        e.state.failureReason = reason ?? 'client_error';
        return snapshot(e);
      }),
    retryUpload: (entityId) =>
      call('retryUpload', [entityId], () => {
        const e = entity(entityId);
        if (e.state.status !== 'failed') throw new ForbiddenTransitionError({ message: 'not failed' });
        if (e.state.attempt >= e.state.maxAttempts)
          throw new AttemptsExhaustedError({ message: 'no attempts left' });
        move(e, 'uploading', 'retry');
        e.state.attempt += 1;
        e.state.failureReason = null;
        return snapshot(e);
      }),
    getUploadState: (entityId) => call('getUploadState', [entityId], () => snapshot(entity(entityId))),
    deleteUpload: (entityId) =>
      call('deleteUpload', [entityId], () => {
        const e = entity(entityId);
        if (e.state.status === 'completed') throw new NotAcceptingError({ message: 'completed' });
        for (const f of e.state.files) objects.delete(f.objectPath);
        entities.delete(entityId);
      }),
    listUploads: (query = {}) =>
      call('listUploads', [query], () => {
        // Newest first by creation order (ids are increasing); the cursor is the last id answered.
        const all = [...entities.values()]
          .map(snapshot)
          .filter(
            (s) =>
              (query.kind === undefined || s.kind === query.kind) &&
              (query.status === undefined || s.status === query.status),
          )
          .reverse();
        const start = query.after ? all.findIndex((s) => s.entityId === query.after) + 1 : 0;
        const limit = query.limit ?? 20;
        const uploads = all.slice(start, start + limit);
        return { uploads, next: all.length > start + limit ? uploads[uploads.length - 1]!.entityId : null };
      }),
  } satisfies Backend;

  return {
    backend,
    calls,
    entities,
    objects,
    pending,
    control,
    get maxInFlight() {
      return maxInFlight;
    },
    /** The next `times` calls of `method` reject with `error` (before taking effect). */
    fail(method: Method, error: unknown, times = 1) {
      const added = Array.from({ length: times }, () => ({ error, afterCommit: false }));
      faults.set(method, [...(faults.get(method) ?? []), ...added]);
    },
    /** The next call of `method` takes effect, then its answer is lost (rejects with `error`). */
    loseAnswer(method: Method, error: unknown = networkError(new Error('socket hang up'))) {
      faults.set(method, [...(faults.get(method) ?? []), { error, afterCommit: true }]);
    },
    /** Resolves once `n` transfers are stalled. */
    stalled(n: number): Promise<void> {
      if (pending.length >= n) return Promise.resolve();
      return new Promise((resolve) => pendingWaiters.push({ n, resolve }));
    },
    count: (method: Method) => calls.filter((c) => c.method === method).length,
  };
}

export type FakeBackend = ReturnType<typeof createFakeBackend>;

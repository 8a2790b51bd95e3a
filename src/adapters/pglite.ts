/**
 * `upload-lifecycle/pglite`: the embedded backend — the same SQL in PGlite (or any `SqlClient`),
 * acting as the signed-in user the way PostgREST does (`set local role authenticated` + JWT
 * claims), so RLS, grants and the RPCs' ownership checks all apply. Bytes stay in memory (or in
 * the store you pass); each object's `storage.objects` row is written the way Supabase's storage
 * server writes it (`writeStorageObject`), so the storage policies are the gate here too.
 *
 * @example
 * ```ts
 * const db = await PGlite.create();
 * await applyMigrations(db, { supabaseShim: true });
 * const backend = createPgliteBackend(db, { userId });
 * const machine = createUploadMachine({ backend });
 * ```
 */
import { namedCall, withActor, type PgliteQueryable, type SqlClient, type SqlTx } from '../db/client.js';
import { StorageWriteError, writeStorageObject } from '../db/storage-write.js';
import { UnknownUserError, toUploadLifecycleError } from '../errors.js';
import { abortError, storageError, type FileDownload, type JourneyBackend } from './backend.js';
import { downloadTargets, type DownloadTarget } from './downloads.js';
import { sha256Of } from './hash.js';
import { rpcMethods, toBytes } from './rpc.js';

export { applyMigrations, type ApplyMigrationsOptions } from '../db/migrate.js';

/** Where the embedded backend keeps bytes: `bucket/path` → bytes. A Map is enough. */
export interface ObjectStore {
  get(key: string): Uint8Array | undefined;
  set(key: string, bytes: Uint8Array): unknown;
  has(key: string): boolean;
}

/** Anything shaped like PGlite: `query`, `exec` and `transaction` (PGlite, the `pg` adapter). */
export type PgliteLike = PgliteQueryable;

export interface PgliteBackendOptions {
  /** The signed-in user (auth.users id), or a function returning the current one. */
  userId: string | (() => string);
  /** Where bytes go. Default: a new in-memory Map. */
  objects?: ObjectStore;
  /** Bytes per progress report, like a tus chunk. Default 6 MB. */
  chunkSize?: number;
}

function asSqlClient(db: PgliteLike | SqlClient): SqlClient {
  return db as unknown as SqlClient;
}

/** The owner of a new row is not in `auth.users`: Postgres' 23503 on `entities.owner_id`. */
function isMissingOwner(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  return (
    e?.code === '23503' &&
    (e.constraint === 'entities_owner_id_fkey' || /entities_owner_id_fkey/.test(String(e.message)))
  );
}

function unknownUser(userId: string, cause: unknown): UnknownUserError {
  return new UnknownUserError({
    message: `user ${userId} does not exist in auth.users, so it cannot own an upload`,
    hint: 'Insert the user first (insert into auth.users (id) values ($1)), or pass the id of an existing user as userId.',
    sqlstate: '23503',
    cause,
  });
}

/**
 * The embedded backend. A plain object `satisfies Backend`, plus `objects` (the byte store) for
 * reading what was uploaded.
 */
export function createPgliteBackend(db: PgliteLike | SqlClient, options: PgliteBackendOptions) {
  const sql = asSqlClient(db);
  const userId = () => (typeof options.userId === 'function' ? options.userId() : options.userId);
  const objects: ObjectStore = options.objects ?? new Map<string, Uint8Array>();
  const chunkSize = options.chunkSize ?? 6 * 1024 * 1024;

  const asUser = <T>(fn: (tx: SqlTx) => Promise<T>) =>
    withActor(sql, { role: 'authenticated', userId: userId() }, fn);

  const rpc = rpcMethods(async (fn, args) => {
    const { text, values } = namedCall(fn, args);
    try {
      const { rows } = await asUser((tx) => tx.query<{ result: unknown }>(text, values));
      return rows[0]?.result;
    } catch (error) {
      throw isMissingOwner(error) ? unknownUser(userId(), error) : toUploadLifecycleError(error);
    }
  });

  /** The bytes of each target, with an object URL where the runtime has one (browsers, Node ≥ 16). */
  const download = (targets: readonly DownloadTarget[]): FileDownload[] =>
    targets.map((t) => {
      const bytes = objects.get(`${t.bucketId}/${t.objectPath}`);
      if (!bytes) {
        throw storageError(404, {
          statusCode: '404',
          error: 'not_found',
          message: `the bytes of file ${t.fileId} are not in this backend's object store`,
        });
      }
      const url =
        typeof URL.createObjectURL === 'function'
          ? URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: t.mime }))
          : '';
      const { bucketId: _b, objectPath: _p, ...file } = t;
      return { ...file, url, expiresAt: null, bytes };
    });

  return {
    name: 'pglite',
    objects,
    ...rpc,
    /**
     * The bytes of an own completed upload's files (and an object URL for each: revoke it with
     * `URL.revokeObjectURL` when done). UL005 for any other status, UL003 for another user's.
     */
    async getDownloadUrls(entityId) {
      return download(downloadTargets(await rpc.getUploadState(entityId)));
    },
    /** The bytes of a shared upload's files, read through its token (as anon would). */
    async getSharedDownloads(token: string) {
      return download((await rpc.getSharedUpload(token)).files);
    },
    sha256Of,
    async uploadObject(transfer) {
      if (transfer.signal.aborted) throw abortError();
      const bytes = await toBytes(transfer.body);
      for (let sent = Math.min(chunkSize, bytes.length); ; sent = Math.min(sent + chunkSize, bytes.length)) {
        if (transfer.signal.aborted) throw abortError();
        if (sent === bytes.length) break;
        transfer.onProgress?.(sent, bytes.length);
      }
      try {
        await writeStorageObject(sql, {
          bucketId: transfer.bucketId,
          name: transfer.objectPath,
          ownerId: userId(),
          size: bytes.length,
          mimetype: transfer.contentType,
          upsert: transfer.upsert === true,
        });
      } catch (error) {
        if (error instanceof StorageWriteError) {
          throw storageError(error.status, {
            statusCode: String(error.status),
            code: error.code,
            message: error.message,
          });
        }
        throw toUploadLifecycleError(error);
      }
      objects.set(`${transfer.bucketId}/${transfer.objectPath}`, bytes);
      transfer.onProgress?.(bytes.length, bytes.length);
    },
  } satisfies JourneyBackend & {
    objects: ObjectStore;
    getSharedDownloads(token: string): Promise<FileDownload[]>;
  };
}

export type PgliteBackend = ReturnType<typeof createPgliteBackend>;

// The deletion outbox worker for the embedded backend (issue 7).
export {
  createMemoryObjectStore,
  drainEmbeddedStorageDeletions,
  type EmbeddedObjectStore,
  type KeyedByteStore,
} from './storage-deletions.js';

/**
 * Workers that drain the deletion outbox (`upload_lifecycle.storage_deletions`, DESIGN.md §2
 * "Failure and recovery"): objects of deleted rows and orphans are removed the way Storage removes
 * them, never by SQL alone.
 *
 * Both workers claim rows with `claim_storage_deletions` (FOR UPDATE SKIP LOCKED plus a lease), so
 * any number of them may run at once: a row is handed to one worker at a time, and a worker that
 * dies gives its rows back when the lease ends. A row is closed by `complete_storage_deletions`,
 * which checks that the object is really gone; failures are postponed with backoff by
 * `fail_storage_deletions`. Failure is data: the report says what happened, nothing is thrown for
 * a storage error.
 */
import { withActor, type SqlClient, type SqlTx } from '../db/client.js';
import { toUploadLifecycleError, type UploadLifecycleError } from '../errors.js';
import { networkError, storageFailure } from './storage-errors.js';

/** The Storage API removes at most this many objects per call. */
export const MAX_REMOVE_BATCH = 1000;

export interface DrainOptions {
  /** Rows claimed (and paths sent to one remove call) at a time, 1..1000. Default 1000. */
  batchSize?: number;
  /** Stop after this many claims even if rows remain (a time budget for cron-like callers). Default: until empty. */
  maxBatches?: number;
  /** Seconds a claim is leased before another worker may take the rows. Default 300. */
  leaseSeconds?: number;
}

export interface DrainReport {
  /** Rows claimed. */
  claimed: number;
  /** Rows closed: their object is gone. */
  removed: number;
  /** Rows postponed with backoff (storage error, or the object is still there). */
  postponed: number;
  /** Claim calls made. */
  batches: number;
  /** One line per failed remove call or still-present batch, for logs. */
  errors: string[];
  /**
   * The typed error of each failed remove call: a `StorageTransferError` (network, Storage
   * unavailable: `retryable`), or the database's refusal inside Storage as its class
   * (`NotAcceptingError` for `UL005`, …), which the next run will meet again.
   */
  failures: UploadLifecycleError[];
}

/** A claimed outbox row, as `claim_storage_deletions` answers it. */
export interface ClaimedDeletion {
  id: number;
  bucket_id: string;
  object_path: string;
  attempts: number;
}

interface CompleteAnswer {
  completed: number;
  still_present: number[];
}

/**
 * What the Supabase worker needs of a supabase-js client created with the service_role key:
 * `rpc` and `storage.from(bucket).remove(paths)`. A `SupabaseClient` satisfies it.
 */
export interface StorageAdminClient {
  rpc(fn: string, args?: Record<string, unknown>): PromiseLike<{ data: unknown; error: unknown }>;
  storage: {
    from(bucketId: string): {
      remove(paths: string[]): PromiseLike<{ data: unknown; error: unknown }>;
    };
  };
}

type RemoveOutcome = { ok: true; answer: CompleteAnswer } | { ok: false; error: UploadLifecycleError };

/** Where the worker's removals go: the Storage API (Supabase) or the embedded store. */
interface DrainPort {
  claim(batch: number, leaseSeconds: number): Promise<ClaimedDeletion[]>;
  /** Removes the objects of one bucket's rows, then closes the rows whose objects are gone. */
  remove(bucketId: string, rows: ClaimedDeletion[]): Promise<RemoveOutcome>;
  fail(ids: number[], error: string): Promise<void>;
}

async function drain(port: DrainPort, options: DrainOptions): Promise<DrainReport> {
  const batchSize = options.batchSize ?? MAX_REMOVE_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_REMOVE_BATCH) {
    throw new RangeError(`batchSize must be an integer from 1 to ${MAX_REMOVE_BATCH}, got ${batchSize}`);
  }
  const leaseSeconds = options.leaseSeconds ?? 300;
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  const report: DrainReport = { claimed: 0, removed: 0, postponed: 0, batches: 0, errors: [], failures: [] };

  while (report.batches < maxBatches) {
    const rows = await port.claim(batchSize, leaseSeconds);
    report.batches += 1;
    report.claimed += rows.length;
    for (const [bucketId, bucketRows] of groupByBucket(rows)) {
      const ids = bucketRows.map((row) => row.id);
      const outcome = await port.remove(bucketId, bucketRows);
      if (!outcome.ok) {
        // Postponed even when the database refused: the refusal may not last (the entity may be
        // deleted), and an outbox row is never given up on. `failures` says which it was.
        const line =
          outcome.error.code === 'UL000'
            ? outcome.error.message
            : `${outcome.error.code}: ${outcome.error.message}`;
        await port.fail(ids, line);
        report.postponed += ids.length;
        report.errors.push(`${bucketId}: ${line}`);
        report.failures.push(outcome.error);
        continue;
      }
      const { answer } = outcome;
      report.removed += answer.completed;
      report.postponed += answer.still_present.length;
      if (answer.still_present.length > 0) {
        report.errors.push(
          `${bucketId}: ${answer.still_present.length} object(s) still present after remove (is the client using the service_role key?)`,
        );
      }
    }
    if (rows.length < batchSize) break;
  }
  return report;
}

function groupByBucket(rows: ClaimedDeletion[]): Map<string, ClaimedDeletion[]> {
  const groups = new Map<string, ClaimedDeletion[]>();
  for (const row of rows) {
    const group = groups.get(row.bucket_id);
    if (group) group.push(row);
    else groups.set(row.bucket_id, [row]);
  }
  return groups;
}

async function rpcOrThrow<T>(
  client: StorageAdminClient,
  fn: string,
  args: Record<string, unknown>,
): Promise<T> {
  const { data, error } = await client.rpc(fn, args);
  if (error) throw toUploadLifecycleError(error);
  return data as T;
}

/**
 * Drains the deletion outbox through Supabase Storage: claims rows, removes their objects with
 * `storage.from(bucket).remove(paths)` (at most 1000 paths a call), closes the rows whose objects
 * are gone and postpones the rest with backoff. Safe to run from several workers at once.
 *
 * Use a client created with the service_role key: Storage answers an empty list, not an error,
 * for objects the caller may not delete; such rows are not closed but postponed and reported.
 *
 * @example
 * ```ts
 * const admin = createClient(url, serviceRoleKey, { auth: { persistSession: false } });
 * const report = await drainStorageDeletions(admin, { batchSize: 1000 });
 * if (report.errors.length > 0) console.warn(report.errors);
 * ```
 */
export function drainStorageDeletions(
  client: StorageAdminClient,
  options: DrainOptions = {},
): Promise<DrainReport> {
  return drain(
    {
      claim: (batch, leaseSeconds) =>
        rpcOrThrow<ClaimedDeletion[]>(client, 'claim_storage_deletions', {
          batch,
          lease_seconds: leaseSeconds,
        }).then((rows) => (rows ?? []).map((row) => ({ ...row, id: Number(row.id) }))),
      async remove(bucketId, rows) {
        try {
          const { error } = await client.storage.from(bucketId).remove(rows.map((row) => row.object_path));
          if (error) {
            // storage-js: `status` (HTTP), `statusCode` (the body's) and `message`; none without an answer.
            const e = error as { status?: number; statusCode?: string; message?: string };
            if (typeof e.status !== 'number') return { ok: false, error: networkError(error) };
            return {
              ok: false,
              error: storageFailure(e.status, { statusCode: e.statusCode, message: e.message }),
            };
          }
        } catch (error) {
          return { ok: false, error: networkError(error) };
        }
        const ids = rows.map((row) => row.id);
        return {
          ok: true,
          answer: await rpcOrThrow<CompleteAnswer>(client, 'complete_storage_deletions', { ids }),
        };
      },
      fail: (ids, error) => rpcOrThrow<void>(client, 'fail_storage_deletions', { ids, error }),
    },
    options,
  );
}

/**
 * Where the embedded backend keeps object bytes. Removing a path that holds nothing is not an
 * error (the outbox may ask twice).
 */
export interface EmbeddedObjectStore {
  remove(bucketId: string, paths: readonly string[]): Promise<void>;
}

/**
 * A byte store keyed by `bucket/path`, as the embedded backend keeps them (`createPgliteBackend`'s
 * `objects`, a `Map` by default): anything with `delete(key)`.
 */
export interface KeyedByteStore {
  delete(key: string): unknown;
}

function toObjectStore(store: EmbeddedObjectStore | KeyedByteStore): EmbeddedObjectStore {
  if ('remove' in store) return store;
  return {
    async remove(bucketId, paths) {
      for (const path of paths) store.delete(`${bucketId}/${path}`);
    },
  };
}

/** An in-memory EmbeddedObjectStore (tests, demos): bytes by `bucket/path`. */
export function createMemoryObjectStore(): EmbeddedObjectStore & {
  put(bucketId: string, path: string, bytes: Uint8Array): void;
  get(bucketId: string, path: string): Uint8Array | undefined;
  readonly size: number;
} {
  const bytes = new Map<string, Uint8Array>();
  const key = (bucketId: string, path: string) => `${bucketId}/${path}`;
  return {
    put: (bucketId, path, value) => void bytes.set(key(bucketId, path), value),
    get: (bucketId, path) => bytes.get(key(bucketId, path)),
    get size() {
      return bytes.size;
    },
    async remove(bucketId, paths) {
      for (const path of paths) bytes.delete(key(bucketId, path));
    },
  };
}

function asService<T>(db: SqlClient, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
  return withActor(db, { role: 'service_role' }, fn);
}

/**
 * The embedded backend's worker: the same outbox protocol, removing objects the way the Storage
 * API does — the `storage.objects` rows (with `storage.allow_delete_query` set for the
 * transaction, as the storage server sets it) and the bytes in `store`, in one transaction, so a
 * failure leaves both in place for the retry.
 *
 * `store` is an {@link EmbeddedObjectStore}, or the embedded backend's `bucket/path`-keyed byte
 * map (`backend.objects`).
 *
 * @example
 * ```ts
 * const backend = createPgliteBackend(db, { userId });
 * await drainEmbeddedStorageDeletions(db, backend.objects as Map<string, Uint8Array>);
 * ```
 */
export function drainEmbeddedStorageDeletions(
  db: SqlClient,
  byteStore: EmbeddedObjectStore | KeyedByteStore,
  options: DrainOptions = {},
): Promise<DrainReport> {
  const store = toObjectStore(byteStore);
  return drain(
    {
      claim: (batch, leaseSeconds) =>
        asService(db, (tx) =>
          tx.query<ClaimedDeletion>(
            'select id, bucket_id, object_path, attempts from public.claim_storage_deletions($1, $2)',
            [batch, leaseSeconds],
          ),
        ).then(({ rows }) => rows.map((row) => ({ ...row, id: Number(row.id) }))),
      async remove(bucketId, rows) {
        const paths = rows.map((row) => row.object_path);
        try {
          const answer = await asService(db, async (tx) => {
            await tx.query(`select set_config('storage.allow_delete_query', 'true', true)`);
            await tx.query('delete from storage.objects where bucket_id = $1 and name = any($2::text[])', [
              bucketId,
              paths,
            ]);
            await store.remove(bucketId, paths);
            const { rows: closed } = await tx.query<{ answer: CompleteAnswer }>(
              'select public.complete_storage_deletions($1::bigint[]) as answer',
              [rows.map((row) => row.id)],
            );
            return closed[0]!.answer;
          });
          return { ok: true, answer };
        } catch (error) {
          return { ok: false, error: toUploadLifecycleError(error) };
        }
      },
      fail: (ids, error) =>
        asService(db, (tx) =>
          tx.query('select public.fail_storage_deletions($1::bigint[], $2)', [ids, error]),
        ).then(() => undefined),
    },
    options,
  );
}

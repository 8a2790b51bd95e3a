/**
 * The storage write rules of Supabase's storage server, in one place, for the embedded backend,
 * the local server and the tests:
 *   - the **permission probe**: the write as the caller (`INSERT`, or `INSERT … ON CONFLICT DO
 *     UPDATE` for an upsert, with the caller's role and claims), rolled back, so the storage
 *     policies and triggers decide;
 *   - the bucket: it must exist; its `allowed_mime_types` and `file_size_limit` apply;
 *   - the real row, written as service_role (no `sub`: `auth.uid()` is NULL in any trigger) with
 *     `owner_id` = the uploader.
 *
 * The order of the checks is the real server's, and it differs per endpoint
 * ({@link STORAGE_CHECK_ORDER}), so the same refused write answers the same refusal here as there.
 * Database errors other than a refused policy or a duplicate are thrown as they are (SQLSTATE
 * kept): the embedded backend maps them to typed errors, the local server renders them as
 * Storage's `DatabaseError`.
 */
import { actAs, type Actor, type SqlClient } from './client.js';
import { mimeAllowed } from '../core/mime.js';

export interface StorageObjectWrite {
  bucketId: string;
  /** Object path inside the bucket, e.g. `{owner_id}/{entity_id}/{file_id}`. */
  name: string;
  /** The uploader (the JWT's `sub`); null for the service key, as on the real server. */
  ownerId: string | null;
  size: number;
  mimetype: string;
  /** Replace an existing object (`x-upsert: true`). Default false: an existing object is a 409. */
  upsert?: boolean;
  /** The caller's role. Default `authenticated` (as `ownerId`). */
  role?: 'anon' | 'authenticated' | 'service_role';
}

/** An error shaped like Supabase Storage's answers: HTTP status plus a stable code. */
export class StorageWriteError extends Error {
  override readonly name = 'StorageWriteError';
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 415,
    readonly code:
      'AccessDenied' | 'NoSuchBucket' | 'Duplicate' | 'EntityTooLarge' | 'InvalidMimeType' | 'InvalidRequest',
    message: string,
  ) {
    super(message);
  }
}

/** One rule of a storage write. */
export type StorageCheck = 'bucket' | 'type' | 'size' | 'permission';

/**
 * Where a write comes from, which decides the order of the checks on the real server:
 * - `standard`: a binary body with `Content-Length` (storage-js with bytes): the bucket's type
 *   and size limits are checked from the request before the permission probe;
 * - `form`: a multipart body (storage-js with a `Blob` in browsers): the type comes with the form
 *   part, the size is only known once the bytes have streamed, after the probe;
 * - `resumable`: tus creation: tus's `maxSize` (the bucket's limit) first, then the probe (on
 *   every request but HEAD and OPTIONS), then the type when the upload is created;
 * - `resumable-chunk`: a tus PATCH: the probe again, as the caller of that request.
 */
export type StorageEndpoint = 'standard' | 'form' | 'resumable' | 'resumable-chunk';

export const STORAGE_CHECK_ORDER: Record<StorageEndpoint, readonly StorageCheck[]> = {
  standard: ['bucket', 'type', 'size', 'permission'],
  form: ['bucket', 'type', 'permission', 'size'],
  resumable: ['bucket', 'size', 'permission', 'type'],
  'resumable-chunk': ['permission'],
};

function callerOf(write: StorageObjectWrite): Actor {
  const role = write.role ?? 'authenticated';
  if (role === 'authenticated') {
    if (!write.ownerId) throw new Error('an authenticated write needs ownerId');
    return { role, userId: write.ownerId };
  }
  return { role };
}

function rowOf(write: StorageObjectWrite) {
  const metadata = {
    size: write.size,
    mimetype: write.mimetype,
    eTag: `"${write.size.toString(16)}-${write.name.length}"`,
    contentLength: write.size,
    cacheControl: 'max-age=3600',
  };
  return {
    insert: `insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
             values ($1, $2, $3::uuid, $3, $4::jsonb)`,
    upsert: `on conflict (bucket_id, name) do update
               set owner = excluded.owner, owner_id = excluded.owner_id, metadata = excluded.metadata, updated_at = now()`,
    params: [write.bucketId, write.name, write.ownerId, JSON.stringify(metadata)],
  };
}

class ProbeDone extends Error {}

/** The write as the caller, rolled back: the policies (and triggers) decide. */
async function probe(db: SqlClient, write: StorageObjectWrite): Promise<void> {
  const row = rowOf(write);
  await db
    .transaction(async (tx) => {
      await actAs(tx, callerOf(write));
      await tx.query(write.upsert ? `${row.insert} ${row.upsert}` : row.insert, row.params);
      throw new ProbeDone();
    })
    .catch((error: unknown) => {
      if (error instanceof ProbeDone) return;
      const code = (error as { code?: string }).code;
      if (code === '42501')
        throw new StorageWriteError(403, 'AccessDenied', 'new row violates row-level security policy');
      if (code === '23505') throw new StorageWriteError(409, 'Duplicate', 'The resource already exists');
      if (code === '23503') throw new StorageWriteError(404, 'NoSuchBucket', 'Bucket not found');
      throw error;
    });
}

/**
 * Runs the checks of `endpoint` in the real server's order; throws the first refusal as a
 * {@link StorageWriteError} (a database error other than a refused policy or a duplicate as is).
 */
export async function checkStorageWrite(
  db: SqlClient,
  write: StorageObjectWrite,
  endpoint: StorageEndpoint,
): Promise<void> {
  let bucket: { file_size_limit: string | null; allowed_mime_types: string[] | null } | undefined;
  const limits = async () => {
    if (bucket) return bucket;
    const { rows } = await db.query<{ file_size_limit: string | null; allowed_mime_types: string[] | null }>(
      'select file_size_limit, allowed_mime_types from storage.buckets where id = $1',
      [write.bucketId],
    );
    if (!rows[0]) throw new StorageWriteError(404, 'NoSuchBucket', 'Bucket not found');
    return (bucket = rows[0]);
  };
  for (const check of STORAGE_CHECK_ORDER[endpoint]) {
    if (check === 'bucket') await limits();
    if (check === 'type') {
      const allowed = (await limits()).allowed_mime_types;
      if (allowed?.length && !mimeAllowed(write.mimetype, allowed))
        throw new StorageWriteError(415, 'InvalidMimeType', `mime type ${write.mimetype} is not supported`);
    }
    if (check === 'size') {
      const limit = (await limits()).file_size_limit;
      if (limit !== null && write.size > Number(limit))
        throw new StorageWriteError(413, 'EntityTooLarge', 'The object exceeded the maximum allowed size');
    }
    if (check === 'permission') await probe(db, write);
  }
}

/**
 * The real row, as service_role, after the bytes are stored (no checks: they ran before the bytes
 * were accepted). Without upsert an object that appeared meanwhile is a 409.
 */
export async function storeObjectRow(db: SqlClient, write: StorageObjectWrite): Promise<void> {
  const row = rowOf(write);
  await db.transaction(async (tx) => {
    await actAs(tx, { role: 'service_role' });
    if (write.upsert) {
      await tx.query(`${row.insert} ${row.upsert}`, row.params);
      return;
    }
    await tx.query(row.insert, row.params).catch((error: { code?: string }) => {
      if (error.code === '23505')
        throw new StorageWriteError(409, 'Duplicate', 'The resource already exists');
      throw error;
    });
  });
}

/**
 * Writes a `storage.objects` row the way Supabase's storage server does: the checks of
 * `endpoint` (default `standard`, a binary upload), then the row as service_role.
 *
 * @example
 * ```ts
 * await writeStorageObject(db, { bucketId, name: objectPath, ownerId: userId, size, mimetype: 'application/pdf' });
 * ```
 */
export async function writeStorageObject(
  db: SqlClient,
  write: StorageObjectWrite,
  endpoint: StorageEndpoint = 'standard',
): Promise<void> {
  await checkStorageWrite(db, write, endpoint);
  await storeObjectRow(db, write);
}

export { mimeAllowed };

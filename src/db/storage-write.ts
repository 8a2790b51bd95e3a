/**
 * Writes a `storage.objects` row the way Supabase's storage server does, for the embedded backend
 * and the tests:
 *   1. permission probe: INSERT as the caller (role authenticated + the caller's claims), rolled
 *      back, so the storage policies decide;
 *   2. the bucket's `file_size_limit` and `allowed_mime_types` are enforced;
 *   3. the real row is written as service_role (no `sub`: `auth.uid()` is NULL in any trigger)
 *      with `owner_id` = the uploader.
 */
import { actAs, type SqlClient } from './client.js';
import { mimeAllowed } from '../core/mime.js';

export interface StorageObjectWrite {
  bucketId: string;
  /** Object path inside the bucket, e.g. `{owner_id}/{entity_id}/{file_id}`. */
  name: string;
  /** The uploader (auth user id). */
  ownerId: string;
  size: number;
  mimetype: string;
  /** Replace an existing object (`x-upsert: true`). Default false: an existing object is a 409. */
  upsert?: boolean;
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

export async function writeStorageObject(db: SqlClient, write: StorageObjectWrite): Promise<void> {
  const metadata = {
    size: write.size,
    mimetype: write.mimetype,
    eTag: `"${write.size.toString(16)}-${write.name.length}"`,
    contentLength: write.size,
    cacheControl: 'max-age=3600',
  };
  const insert = `insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
                  values ($1, $2, $3::uuid, $3, $4::jsonb)`;
  const params = [write.bucketId, write.name, write.ownerId, JSON.stringify(metadata)];

  // 1. Permission probe as the caller, always rolled back.
  await db
    .transaction(async (tx) => {
      await actAs(tx, { role: 'authenticated', userId: write.ownerId });
      await tx.query(insert, params);
      throw new ProbeDone();
    })
    .catch((error: unknown) => {
      if (error instanceof ProbeDone) return;
      const code = (error as { code?: string }).code;
      if (code === '42501')
        throw new StorageWriteError(403, 'AccessDenied', 'new row violates row-level security policy');
      if (code === '23505' && write.upsert) return;
      if (code === '23505') throw new StorageWriteError(409, 'Duplicate', 'The resource already exists');
      if (code === '23503') throw new StorageWriteError(404, 'NoSuchBucket', 'Bucket not found');
      throw error;
    });

  // 2 + 3. Bucket limits, then the real row as service_role.
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ file_size_limit: string | null; allowed_mime_types: string[] | null }>(
      'select file_size_limit, allowed_mime_types from storage.buckets where id = $1',
      [write.bucketId],
    );
    const bucket = rows[0];
    if (!bucket) throw new StorageWriteError(404, 'NoSuchBucket', 'Bucket not found');
    if (bucket.file_size_limit !== null && write.size > Number(bucket.file_size_limit)) {
      throw new StorageWriteError(413, 'EntityTooLarge', 'The object exceeded the maximum allowed size');
    }
    if (
      bucket.allowed_mime_types &&
      bucket.allowed_mime_types.length > 0 &&
      !mimeAllowed(write.mimetype, bucket.allowed_mime_types)
    ) {
      throw new StorageWriteError(415, 'InvalidMimeType', `mime type ${write.mimetype} is not supported`);
    }
    await actAs(tx, { role: 'service_role' });
    if (write.upsert) {
      await tx.query(
        `${insert} on conflict (bucket_id, name) do update
           set owner = excluded.owner, owner_id = excluded.owner_id, metadata = excluded.metadata, updated_at = now()`,
        params,
      );
    } else {
      await tx.query(insert, params).catch((error: { code?: string }) => {
        if (error.code === '23505')
          throw new StorageWriteError(409, 'Duplicate', 'The resource already exists');
        throw error;
      });
    }
  });
}

class ProbeDone extends Error {}

export { mimeAllowed };

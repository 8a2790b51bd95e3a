/** Storage commands: uploads through the storage server's write path, removals through its API. */
import { service, superuser, user } from '../../support/db.js';
import { runAs, sql } from '../sql.js';
import { type SqlClient } from '../../support/db.js';
import { StorageWriteError, type StorageObjectWrite } from '../../../src/db/storage-write.js';
import {
  MODEL_USERS,
  bucketLimits,
  objectKey,
  statusOfEntity,
  type LifecycleModel,
  type ModelFile,
} from '../../support/model-lifecycle.js';
import { NoRowError } from '../driver.js';
import { mimeAllowed } from '../../../src/db/storage-write.js';
import { type Real, outcome, agree, otherUser, LifecycleCommand, FileCommand } from './base.js';

export type ObjectVariant = 'right' | 'wrong_size' | 'wrong_type' | 'wrong_path' | 'other_owner';

/**
 * The storage server's write path exactly as `writeStorageObject` (src/db/storage-write.ts) does
 * it for the standard endpoint — the bucket, its allowed types and size limit, then the
 * permission probe INSERT as the caller, rolled back, then the real row as service_role — in three
 * round trips instead of its transactions of parameterised queries. Same statements, same order,
 * same error mapping; the embedded backend keeps using the original.
 */
export async function storeLikeStorageServer(
  db: SqlClient,
  write: StorageObjectWrite & { ownerId: string },
): Promise<void> {
  const metadata = {
    size: write.size,
    mimetype: write.mimetype,
    eTag: `"${write.size.toString(16)}-${write.name.length}"`,
    contentLength: write.size,
    cacheControl: 'max-age=3600',
  };
  const insert = sql`insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
                     values (${write.bucketId}, ${write.name}, ${write.ownerId}::uuid, ${write.ownerId}, ${JSON.stringify(metadata)}::jsonb)`;
  // 1. The bucket, its types, its size limit (STORAGE_CHECK_ORDER.standard).
  const [bucket] = await runAs<{
    file_size_limit: string | null;
    allowed_mime_types: string[] | string | null;
  }>(
    db,
    superuser,
    sql`select file_size_limit, allowed_mime_types from storage.buckets where id = ${write.bucketId}`,
    { rollback: true }, // a read: rolled back, the database provably unchanged
  );
  if (!bucket) throw new StorageWriteError(404, 'NoSuchBucket', 'Bucket not found');
  const types =
    typeof bucket.allowed_mime_types === 'string'
      ? parseTextArray(bucket.allowed_mime_types)
      : bucket.allowed_mime_types;
  if (types?.length && !mimeAllowed(write.mimetype, types))
    throw new StorageWriteError(415, 'InvalidMimeType', `mime type ${write.mimetype} is not supported`);
  if (bucket.file_size_limit !== null && write.size > Number(bucket.file_size_limit))
    throw new StorageWriteError(413, 'EntityTooLarge', 'The object exceeded the maximum allowed size');
  // 2. Permission probe as the caller, always rolled back.
  await runAs(db, { role: 'authenticated', userId: write.ownerId }, insert, { rollback: true }).catch(
    (error: { code?: string }) => {
      if (error.code === '42501')
        throw new StorageWriteError(403, 'AccessDenied', 'new row violates row-level security policy');
      if (error.code === '23505')
        throw new StorageWriteError(409, 'Duplicate', 'The resource already exists');
      if (error.code === '23503') throw new StorageWriteError(404, 'NoSuchBucket', 'Bucket not found');
      throw error;
    },
  );
  // 3. The real row as service_role.
  await runAs(db, { role: 'service_role' }, insert).catch((error: { code?: string }) => {
    if (error.code === '23505') throw new StorageWriteError(409, 'Duplicate', 'The resource already exists');
    throw error;
  });
}

/** A text[] as PostgreSQL prints it, when a driver hands it over unparsed. */
function parseTextArray(text: string): string[] {
  return text === '{}'
    ? []
    : text
        .slice(1, -1)
        .split(',')
        .map((t) => t.replace(/^"|"$/g, ''));
}

/** Uploads an object through the storage server's write path (policies gate the caller). */
export class StoreObjectCommand extends FileCommand {
  constructor(
    fileRef: number,
    readonly variant: ObjectVariant,
    readonly privileged: boolean,
  ) {
    super(fileRef);
  }
  /** Files still waiting for their object come first: that is where uploads matter. */
  protected override order(m: LifecycleModel): ModelFile[] {
    const stored = (f: ModelFile) => m.objects.has(objectKey(f.bucketId, f.objectPath));
    return [...m.files.filter(stored), ...m.files.filter((f) => !stored(f))];
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const { file, entity } = this.file(m);
    const ownerId = MODEL_USERS[entity.owner]!;
    const uploader = this.variant === 'other_owner' ? otherUser(entity.owner) : ownerId;
    const name = this.variant === 'wrong_path' ? `${ownerId}/${entity.id}/unregistered` : file.objectPath;
    const size = file.declaredSize + (this.variant === 'wrong_size' ? 1 : 0);
    const slotTypes = entity.kind.requirements.find((x) => x.slot === file.slot)!.allowedMimeTypes;
    // A type the bucket takes but the slot does not (or, with one slot, one the bucket refuses).
    const otherType =
      entity.kind.requirements
        .flatMap((x) => x.allowedMimeTypes)
        .map((t) => t.replace('/*', '/png'))
        .find((t) => !mimeAllowed(t, slotTypes)) ?? 'application/octet-stream';
    const mime = this.variant === 'wrong_type' ? otherType : file.declaredMime;
    const key = objectKey(file.bucketId, name);

    let allowed: boolean;
    let write: Promise<unknown>;
    if (this.privileged) {
      allowed = !m.objects.has(key);
      write = runAs(
        r.db,
        superuser,
        sql`insert into storage.objects (bucket_id, name, owner_id, metadata)
            values (${file.bucketId}, ${name}, ${uploader}, ${JSON.stringify({ size, mimetype: mime })}::jsonb)`,
      ).catch((error: { code?: string }) => {
        if (error.code === '23505') throw Object.assign(new Error('duplicate object'), { code: 'Duplicate' });
        throw error;
      });
    } else {
      const target = m.files.find((f) => f.bucketId === file.bucketId && f.objectPath === name);
      const targetEntity = target && m.entities.find((e) => e.id === target.entityId);
      const bucket = bucketLimits(entity.kind);
      allowed =
        m.caps.storagePolicies &&
        targetEntity !== undefined &&
        statusOfEntity(targetEntity) === 'uploading' &&
        MODEL_USERS[targetEntity.owner] === uploader &&
        !m.objects.has(key) &&
        size <= bucket.maxBytes &&
        mimeAllowed(mime, bucket.mimeTypes);
      write = storeLikeStorageServer(r.db, {
        bucketId: file.bucketId,
        name,
        ownerId: uploader,
        size,
        mimetype: mime,
      });
    }
    agree(
      this.toString(),
      allowed,
      await outcome(write),
      this.privileged ? 'superuser_insert_object' : 'store_object',
      this.before,
    );
    if (allowed && name === file.objectPath) entity.hadUpload = true;
    if (allowed)
      m.objects.set(key, {
        bucketId: file.bucketId,
        name,
        ownerId: uploader,
        size,
        mime,
        writtenAt: m.clock,
      });
  }
  toString(): string {
    return `${this.privileged ? 'superuser_insert_object' : 'store_object'}(${this.ref}, ${this.variant})`;
  }
}

/**
 * Removes an object through the Storage API (a DELETE as the caller; the policies decide). With
 * the service key the policies do not apply: only the freeze trigger stands between it and the
 * files of a finalized entity.
 */
export class RemoveObjectCommand extends LifecycleCommand {
  constructor(
    readonly objectRef: number,
    readonly who: 'owner' | 'other' | 'service',
  ) {
    super();
  }
  override check(m: Readonly<LifecycleModel>): boolean {
    return m.objects.size > 0;
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const objects = [...m.objects.values()];
    const index = this.objectRef % objects.length;
    const object = objects[index]!;
    this.resolved = `object ${index} ${object.name.split('/').slice(1).join('/').slice(0, 13)}…`;
    const ownerIndex = MODEL_USERS.indexOf(object.ownerId as (typeof MODEL_USERS)[number]);
    const caller = this.who === 'owner' ? object.ownerId : otherUser(ownerIndex);
    const file = m.files.find((f) => f.bucketId === object.bucketId && f.objectPath === object.name);
    const fileEntity = file && m.entities.find((e) => e.id === file.entityId);
    // Frozen from finalize on (processing, completed).
    const frozen = fileEntity && ['completed', 'processing'].includes(statusOfEntity(fileEntity) ?? '');
    const allowed =
      this.who === 'service' ? !frozen : m.caps.storagePolicies && caller === object.ownerId && !frozen;
    const result = await outcome(
      runAs(
        r.db,
        this.who === 'service' ? service : user(caller),
        sql`select set_config('storage.allow_delete_query', 'true', true);
            delete from storage.objects where bucket_id = ${object.bucketId} and name = ${object.name} returning id`,
      ).then((rows) => {
        if (rows.length === 0) throw new NoRowError('remove object');
      }),
    );
    agree(
      this.toString(),
      allowed,
      result,
      this.who === 'service' ? 'remove_object service' : 'remove_object',
      fileEntity ? (statusOfEntity(fileEntity) ?? 'deleted') : '-',
    );
    if (allowed) m.objects.delete(objectKey(object.bucketId, object.name));
  }
  toString(): string {
    return `remove_object(${this.resolved || `o?${this.objectRef}`}) as ${this.who}`;
  }
}

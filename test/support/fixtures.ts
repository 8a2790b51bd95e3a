/**
 * Fixtures that put data in place as the superuser (setup, not the behaviour under test).
 */
import { randomUUID } from 'node:crypto';
import { writeStorageObject } from '../../src/db/storage-write.js';
import { as, service, superuser, type SqlClient } from './db.js';
import type { UploadStatus } from '../../src/machines/lifecycle.js';

export interface RequirementFixture {
  slot: string;
  minCount?: number;
  maxCount?: number;
  maxBytes?: number;
  allowedMimeTypes?: string[];
}

/** A processor of the kind (`kind_processors`): a job per matching file at finalize. */
export interface ProcessorFixture {
  processor: string;
  /** Only files of this slot; every slot when absent. */
  slot?: string;
  /** Default true: the entity completes only when this job is complete. */
  required?: boolean;
  maxAttempts?: number;
}

export interface KindFixture {
  kind?: string;
  bucketId?: string;
  maxAttempts?: number;
  requirements?: RequirementFixture[];
  processors?: ProcessorFixture[];
}

export const DEFAULT_REQUIREMENTS: RequirementFixture[] = [
  { slot: 'document', minCount: 1, maxCount: 1, maxBytes: 10_000, allowedMimeTypes: ['application/pdf'] },
  { slot: 'photos', minCount: 0, maxCount: 3, maxBytes: 5_000, allowedMimeTypes: ['image/*'] },
];

/** Declares a kind, its requirements and its bucket. Returns the kind name and bucket id. */
export async function defineKind(db: SqlClient, fixture: KindFixture = {}) {
  const kind = fixture.kind ?? 'report';
  const bucketId = fixture.bucketId ?? `${kind.replaceAll('_', '-')}-files`;
  const requirements = fixture.requirements ?? DEFAULT_REQUIREMENTS;
  await db.query(
    `insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
     values ($1, $1, false, $2, $3) on conflict (id) do nothing`,
    [
      bucketId,
      Math.max(...requirements.map((r) => r.maxBytes ?? 10_000)),
      requirements.flatMap((r) => r.allowedMimeTypes ?? ['application/pdf']),
    ],
  );
  await db.query(
    `insert into upload_lifecycle.entity_kinds (kind, bucket_id, max_attempts) values ($1, $2, $3)`,
    [kind, bucketId, fixture.maxAttempts ?? 3],
  );
  for (const r of requirements) {
    await db.query(
      `insert into upload_lifecycle.file_requirements (kind, slot, min_count, max_count, max_bytes, allowed_mime_types)
       values ($1, $2, $3, $4, $5, $6)`,
      [
        kind,
        r.slot,
        r.minCount ?? 1,
        r.maxCount ?? 1,
        r.maxBytes ?? 10_000,
        r.allowedMimeTypes ?? ['application/pdf'],
      ],
    );
  }
  for (const p of fixture.processors ?? []) {
    await defineProcessor(db, kind, p);
  }
  return { kind, bucketId };
}

/** Declares a processor of a kind, as the superuser (configuration, like requirements). */
export async function defineProcessor(db: SqlClient, kind: string, p: ProcessorFixture): Promise<void> {
  await db.query(
    `insert into upload_lifecycle.kind_processors (kind, processor, slot, required, max_attempts)
     values ($1, $2, $3, $4, $5)`,
    [kind, p.processor, p.slot ?? null, p.required ?? true, p.maxAttempts ?? 3],
  );
}

export async function insertDraft(db: SqlClient, kind: string, ownerId: string): Promise<string> {
  const { rows } = await as(db, service, (tx) =>
    tx.query<{ id: string }>(
      `insert into upload_lifecycle.entities (kind, owner_id) values ($1, $2) returning id`,
      [kind, ownerId],
    ),
  );
  return rows[0]!.id;
}

export async function setStatus(db: SqlClient, id: string, status: UploadStatus): Promise<void> {
  await as(db, service, (tx) =>
    tx.query(`update upload_lifecycle.entities set status = $2 where id = $1`, [id, status]),
  );
}

export interface RegisteredFile {
  id: string;
  bucketId: string;
  objectPath: string;
  size: number;
  mime: string;
}

/** Registers a file row as service_role (the RPC of issue 3 does the same for users). */
export async function registerFile(
  db: SqlClient,
  entityId: string,
  file: { slot?: string; name?: string; size?: number; mime?: string } = {},
): Promise<RegisteredFile> {
  const size = file.size ?? 1234;
  const mime = file.mime ?? 'application/pdf';
  const { rows } = await as(db, service, (tx) =>
    tx.query<{ id: string; bucket_id: string; object_path: string }>(
      `insert into upload_lifecycle.entity_files (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime)
       select e.id, e.kind, $2, '', '', $3, $4, $5 from upload_lifecycle.entities e where e.id = $1
       returning id, bucket_id, object_path`,
      [entityId, file.slot ?? 'document', file.name ?? `${randomUUID()}.pdf`, size, mime],
    ),
  );
  const row = rows[0]!;
  return { id: row.id, bucketId: row.bucket_id, objectPath: row.object_path, size, mime };
}

/** Stores the object of a registered file the way the storage server would, as its owner. */
export async function storeObject(
  db: SqlClient,
  ownerId: string,
  file: RegisteredFile,
  overrides: { size?: number; mime?: string } = {},
): Promise<void> {
  await writeStorageObject(db, {
    bucketId: file.bucketId,
    name: file.objectPath,
    ownerId,
    size: overrides.size ?? file.size,
    mimetype: overrides.mime ?? file.mime,
  });
}

/** Writes an object row directly as service_role, bypassing storage policies (setup only). */
export async function forceObject(db: SqlClient, ownerId: string, file: RegisteredFile): Promise<void> {
  await as(db, superuser, (tx) =>
    tx.query(`insert into storage.objects (bucket_id, name, owner_id, metadata) values ($1, $2, $3, $4)`, [
      file.bucketId,
      file.objectPath,
      ownerId,
      JSON.stringify({ size: file.size, mimetype: file.mime }),
    ]),
  );
}

export async function markVerified(db: SqlClient, entityId: string): Promise<void> {
  await as(db, service, (tx) =>
    tx.query(`update upload_lifecycle.entity_files set verified_at = now() where entity_id = $1`, [entityId]),
  );
}

export async function statusOfRow(db: SqlClient, id: string): Promise<UploadStatus | undefined> {
  const { rows } = await db.query<{ status: UploadStatus }>(
    `select status from upload_lifecycle.entities where id = $1`,
    [id],
  );
  return rows[0]?.status;
}

export async function eventsOf(db: SqlClient, id: string) {
  const { rows } = await db.query<{
    event: string;
    from_status: UploadStatus | null;
    to_status: UploadStatus | null;
  }>(
    `select event, from_status, to_status from upload_lifecycle.entity_events where entity_id = $1 order by id`,
    [id],
  );
  return rows;
}

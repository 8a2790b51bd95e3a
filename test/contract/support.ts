/**
 * Calling the RPCs the way PostgREST does: `select public.fn(arg => $1, …)` in a transaction that
 * runs as the caller's role with the caller's JWT claims. Named arguments are the JSON keys
 * supabase-js sends, so a renamed parameter fails here as it would in the browser.
 */
import { as, createPgliteDb, type Actor, type SqlClient, type TestDb } from '../support/db.js';
import { namedCall } from '../../src/db/client.js';
import { writeStorageObject } from '../../src/db/storage-write.js';
import type { UploadStatus } from '../../src/machines/lifecycle.js';

export interface UploadStateFileJson {
  file_id: string;
  file_key: string;
  slot: string;
  original_name: string;
  declared_size: number;
  declared_mime: string;
  sha256: string | null;
  bucket_id: string;
  object_path: string;
  verified_at: string | null;
  object_exists: boolean;
  object_matches: boolean;
}

export interface UploadStateJson {
  entity_id: string;
  kind: string;
  status: UploadStatus;
  attempt: number;
  max_attempts: number;
  failure_reason: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  requirements: {
    slot: string;
    min_count: number;
    max_count: number;
    max_bytes: number;
    allowed_mime_types: string[];
  }[];
  files: UploadStateFileJson[];
}

export interface RegisteredFileJson {
  file_id: string;
  bucket_id: string;
  object_path: string;
  file_key: string;
}

/** Calls `public.<name>` with named arguments as `actor`; resolves to the function's result. */
export async function rpc<T = UploadStateJson>(
  db: SqlClient,
  actor: Actor,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const { text, values } = namedCall(name, args);
  const { rows } = await as(db, actor, (tx) => tx.query<{ result: T }>(text, values));
  return rows[0]!.result;
}

/** The rejection of a promise (for asserting code, message, detail and hint together). */
export async function rejection(promise: Promise<unknown>): Promise<{
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
}> {
  try {
    await promise;
  } catch (error) {
    return error as never;
  }
  throw new Error('expected a rejection, but the call succeeded');
}

/** Uploads an object the way Supabase's storage server does, as `userId`. */
export function upload(
  db: SqlClient,
  userId: string,
  object: { bucket_id: string; object_path: string },
  content: { size: number; mime: string; upsert?: boolean },
): Promise<void> {
  return writeStorageObject(db, {
    bucketId: object.bucket_id,
    name: object.object_path,
    ownerId: userId,
    size: content.size,
    mimetype: content.mime,
    ...(content.upsert === undefined ? {} : { upsert: content.upsert }),
  });
}

/** Number of audit events of an entity. */
export async function eventCount(db: SqlClient, entityId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from upload_lifecycle.entity_events where entity_id = $1',
    [entityId],
  );
  return rows[0]!.n;
}

export const PDF = { slot: 'document', filename: 'report.pdf', size: 1234, mime: 'application/pdf' } as const;
export const PNG = { slot: 'photos', filename: 'photo.png', size: 800, mime: 'image/png' } as const;

/**
 * The database of a contract test file: PGlite by default; the real server at DATABASE_URL when
 * `CONTRACT_DB=pg` (`CONTRACT_DB=pg npx vitest run test/contract` runs every contract on PG 15).
 */
export async function createContractDb(): Promise<TestDb> {
  if (process.env.CONTRACT_DB === 'pg') {
    const { createPgDb } = await import('../support/pg.js');
    return createPgDb();
  }
  return createPgliteDb();
}

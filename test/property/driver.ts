/**
 * How the property commands reach the database. Two drivers behind one interface:
 *   * `rpcDriver`: the RPCs of docs/rpc.md, called as the acting role (what supabase-js does);
 *   * `sqlDriver`: before the RPCs exist, the same operations as direct SQL by service_role on
 *     behalf of the owner (a trusted backend); other users and anon run the same SQL as themselves.
 * Both throw the database's error (with its SQLSTATE `code`); an operation that touched no row
 * throws code `NOROW`.
 */
import { anon, service, user, type Actor, type SqlClient } from '../support/db.js';
import { runAs, sql } from './sql.js';
import type { FileRequest } from '../support/model-lifecycle.js';

/** Who sends a user-facing command, relative to the entity's owner. */
export type Who = 'owner' | 'other' | 'anon' | 'service';

export interface RegisteredFileRow {
  fileId: string;
  bucketId: string;
  objectPath: string;
}

export interface LifecycleDriver {
  readonly name: 'rpc' | 'sql';
  /** `key`: the client-chosen idempotency key, if any. */
  create(db: SqlClient, actor: Actor, ownerId: string, kind: string, key?: string): Promise<string>;
  begin(db: SqlClient, actor: Actor, entityId: string): Promise<void>;
  register(db: SqlClient, actor: Actor, entityId: string, file: FileRequest): Promise<RegisteredFileRow>;
  removeFile(db: SqlClient, actor: Actor, entityId: string, fileId: string): Promise<void>;
  finalize(db: SqlClient, actor: Actor, entityId: string): Promise<void>;
  fail(db: SqlClient, actor: Actor, entityId: string, reason: string): Promise<void>;
  retry(db: SqlClient, actor: Actor, entityId: string): Promise<void>;
  delete(db: SqlClient, actor: Actor, entityId: string): Promise<void>;
}

export class NoRowError extends Error {
  readonly code = 'NOROW';
  constructor(what: string) {
    super(`${what}: no row changed`);
  }
}

function oneRow<T>(what: string) {
  return (rows: T[]): T => {
    if (rows.length === 0) throw new NoRowError(what);
    return rows[0]!;
  };
}

/** The actor a user-facing command runs as under the SQL driver. */
export function sqlActorFor(who: Who, _ownerId: string, otherId: string): Actor {
  return who === 'owner' || who === 'service' ? service : who === 'other' ? user(otherId) : anon;
}

/** The actor a user-facing command runs as under the RPC driver. */
export function rpcActorFor(who: Who, ownerId: string, otherId: string): Actor {
  return who === 'owner'
    ? user(ownerId)
    : who === 'other'
      ? user(otherId)
      : who === 'service'
        ? service
        : anon;
}

const setStatus = (db: SqlClient, actor: Actor, id: string, status: string, reason: string | null = null) =>
  runAs<{ id: string }>(
    db,
    actor,
    sql`update upload_lifecycle.entities set status = ${status}::upload_lifecycle.upload_status,
               failure_reason = coalesce(${reason}, failure_reason)
         where id = ${id}::uuid and status is distinct from ${status}::upload_lifecycle.upload_status returning id`,
  ).then(oneRow(`set status ${status}`));

export const sqlDriver: LifecycleDriver = {
  name: 'sql',
  async create(db, actor, ownerId, kind, key) {
    const row = await runAs<{ id: string }>(
      db,
      actor,
      sql`insert into upload_lifecycle.entities (kind, owner_id, idempotency_key)
          values (${kind}, ${ownerId}::uuid, ${key ?? null}) returning id`,
    ).then(oneRow('create'));
    return row.id;
  },
  async begin(db, actor, id) {
    await setStatus(db, actor, id, 'uploading');
  },
  async retry(db, actor, id) {
    await setStatus(db, actor, id, 'uploading');
  },
  async fail(db, actor, id, reason) {
    await setStatus(db, actor, id, 'failed', reason);
  },
  async finalize(db, actor, id) {
    // What finalize does: verify the files, then complete (idempotent on a completed row); the
    // deferred check decides at commit.
    await runAs(
      db,
      actor,
      sql`update upload_lifecycle.entity_files set verified_at = now() where entity_id = ${id}::uuid and verified_at is null;
          update upload_lifecycle.entities set status = 'completed' where id = ${id}::uuid returning id`,
    ).then(oneRow('finalize'));
  },
  async register(db, actor, id, file) {
    const row = await runAs<{ id: string; bucket_id: string; object_path: string }>(
      db,
      actor,
      sql`insert into upload_lifecycle.entity_files
            (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime, file_key)
          select e.id, e.kind, ${file.slot}, '', '', ${file.filename}, ${file.size}, ${file.mime},
                 coalesce(${file.key ?? null}, gen_random_uuid()::text)
          from upload_lifecycle.entities e where e.id = ${id}::uuid
          returning id, bucket_id, object_path`,
    ).then(oneRow('register'));
    return { fileId: row.id, bucketId: row.bucket_id, objectPath: row.object_path };
  },
  async removeFile(db, actor, id, fileId) {
    await runAs(
      db,
      actor,
      sql`delete from upload_lifecycle.entity_files where id = ${fileId}::uuid and entity_id = ${id}::uuid returning id`,
    ).then(oneRow('remove file'));
  },
  async delete(db, actor, id) {
    // The rule of delete_upload (own, non-completed), as a backend would apply it.
    await runAs(
      db,
      actor,
      sql`delete from upload_lifecycle.entities where id = ${id}::uuid and status <> 'completed' returning id`,
    ).then(oneRow('delete'));
  },
};

const rpc = async <T>(db: SqlClient, actor: Actor, call: string): Promise<T> => {
  const rows = await runAs<{ r: unknown }>(db, actor, `select ${call} as r`);
  const value = rows[0]!.r;
  return (typeof value === 'string' && value !== '' ? JSON.parse(value) : value) as T;
};

export const rpcDriver: LifecycleDriver = {
  name: 'rpc',
  async create(db, actor, _ownerId, kind, key) {
    const state = await rpc<{ entity_id: string }>(
      db,
      actor,
      sql`public.create_upload_draft(kind => ${kind}, idempotency_key => ${key ?? null})`,
    );
    return state.entity_id;
  },
  async begin(db, actor, id) {
    await rpc(db, actor, sql`public.begin_upload(entity_id => ${id}::uuid)`);
  },
  async retry(db, actor, id) {
    await rpc(db, actor, sql`public.retry_upload(entity_id => ${id}::uuid)`);
  },
  async fail(db, actor, id, reason) {
    await rpc(db, actor, sql`public.fail_upload(entity_id => ${id}::uuid, reason => ${reason})`);
  },
  async finalize(db, actor, id) {
    await rpc(db, actor, sql`public.finalize_upload(entity_id => ${id}::uuid)`);
  },
  async register(db, actor, id, file) {
    const r = await rpc<{ file_id: string; bucket_id: string; object_path: string }>(
      db,
      actor,
      sql`public.register_upload_file(entity_id => ${id}::uuid, slot => ${file.slot}, filename => ${file.filename},
            size => ${file.size}, mime => ${file.mime}, file_key => ${file.key ?? null})`,
    );
    return { fileId: r.file_id, bucketId: r.bucket_id, objectPath: r.object_path };
  },
  async removeFile(db, actor, id, fileId) {
    await rpc(
      db,
      actor,
      sql`public.remove_upload_file(entity_id => ${id}::uuid, file_id => ${fileId}::uuid)`,
    );
  },
  async delete(db, actor, id) {
    await rpc(db, actor, sql`public.delete_upload(entity_id => ${id}::uuid)`);
  },
};

/** The RPCs the RPC driver needs; all must exist before the suite switches to them. */
export const REQUIRED_RPCS = [
  'public.create_upload_draft(text,jsonb,text,jsonb,boolean)',
  'public.begin_upload(uuid)',
  'public.register_upload_file(uuid,text,text,bigint,text,text,text)',
  'public.remove_upload_file(uuid,uuid)',
  'public.finalize_upload(uuid)',
  'public.fail_upload(uuid,text)',
  'public.retry_upload(uuid)',
  'public.delete_upload(uuid)',
] as const;

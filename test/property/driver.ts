/**
 * How the property commands reach the database. Two drivers behind one interface:
 *   * `rpcDriver`: the RPCs of docs/rpc.md, called as the acting role (what supabase-js does);
 *   * `sqlDriver`: before the RPCs exist, the same operations as direct SQL by service_role on
 *     behalf of the owner (a trusted backend); other users and anon run the same SQL as themselves.
 * Both throw the database's error (with its SQLSTATE `code`); an operation that touched no row
 * throws code `NOROW`.
 */
import { as, anon, service, user, type Actor, type SqlClient, type SqlTx } from '../support/db.js';
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
  create(db: SqlClient, actor: Actor, ownerId: string, kind: string): Promise<string>;
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
  return ({ rows }: { rows: T[] }): T => {
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

const setStatus = (tx: SqlTx, id: string, status: string, reason: string | null = null) =>
  tx
    .query<{ id: string }>(
      `update upload_lifecycle.entities set status = $2::upload_lifecycle.upload_status,
              failure_reason = coalesce($3, failure_reason)
        where id = $1 and status is distinct from $2::upload_lifecycle.upload_status returning id`,
      [id, status, reason],
    )
    .then(oneRow(`set status ${status}`));

export const sqlDriver: LifecycleDriver = {
  name: 'sql',
  async create(db, actor, ownerId, kind) {
    const row = await as(db, actor, (tx) =>
      tx
        .query<{ id: string }>(
          `insert into upload_lifecycle.entities (kind, owner_id) values ($1, $2) returning id`,
          [kind, ownerId],
        )
        .then(oneRow('create')),
    );
    return row.id;
  },
  async begin(db, actor, id) {
    await as(db, actor, (tx) => setStatus(tx, id, 'uploading'));
  },
  async retry(db, actor, id) {
    await as(db, actor, (tx) => setStatus(tx, id, 'uploading'));
  },
  async fail(db, actor, id, reason) {
    await as(db, actor, (tx) => setStatus(tx, id, 'failed', reason));
  },
  async finalize(db, actor, id) {
    // What finalize does: verify the files, then complete (idempotent on a completed row); the
    // deferred check decides at commit.
    await as(db, actor, async (tx) => {
      await tx.query(
        `update upload_lifecycle.entity_files set verified_at = now() where entity_id = $1 and verified_at is null`,
        [id],
      );
      await tx
        .query(`update upload_lifecycle.entities set status = 'completed' where id = $1 returning id`, [id])
        .then(oneRow('finalize'));
    });
  },
  async register(db, actor, id, file) {
    const row = await as(db, actor, (tx) =>
      tx
        .query<{ id: string; bucket_id: string; object_path: string }>(
          `insert into upload_lifecycle.entity_files
             (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime)
           select e.id, e.kind, $2, '', '', $3, $4, $5 from upload_lifecycle.entities e where e.id = $1
           returning id, bucket_id, object_path`,
          [id, file.slot, file.filename, file.size, file.mime],
        )
        .then(oneRow('register')),
    );
    return { fileId: row.id, bucketId: row.bucket_id, objectPath: row.object_path };
  },
  async removeFile(db, actor, id, fileId) {
    await as(db, actor, (tx) =>
      tx
        .query(`delete from upload_lifecycle.entity_files where id = $2 and entity_id = $1 returning id`, [
          id,
          fileId,
        ])
        .then(oneRow('remove file')),
    );
  },
  async delete(db, actor, id) {
    // The rule of delete_upload (own, non-completed), as a backend would apply it.
    await as(db, actor, (tx) =>
      tx
        .query(`delete from upload_lifecycle.entities where id = $1 and status <> 'completed' returning id`, [
          id,
        ])
        .then(oneRow('delete')),
    );
  },
};

const rpc = (db: SqlClient, actor: Actor, sql: string, params: unknown[]) =>
  as(db, actor, (tx) => tx.query<Record<string, unknown>>(sql, params));

export const rpcDriver: LifecycleDriver = {
  name: 'rpc',
  async create(db, actor, _ownerId, kind) {
    const { rows } = await rpc(db, actor, `select public.create_upload_draft(kind => $1) as s`, [kind]);
    return (rows[0]!.s as { entity_id: string }).entity_id;
  },
  async begin(db, actor, id) {
    await rpc(db, actor, `select public.begin_upload(entity_id => $1::uuid)`, [id]);
  },
  async retry(db, actor, id) {
    await rpc(db, actor, `select public.retry_upload(entity_id => $1::uuid)`, [id]);
  },
  async fail(db, actor, id, reason) {
    await rpc(db, actor, `select public.fail_upload(entity_id => $1::uuid, reason => $2)`, [id, reason]);
  },
  async finalize(db, actor, id) {
    await rpc(db, actor, `select public.finalize_upload(entity_id => $1::uuid)`, [id]);
  },
  async register(db, actor, id, file) {
    const { rows } = await rpc(
      db,
      actor,
      `select public.register_upload_file(entity_id => $1::uuid, slot => $2, filename => $3, size => $4, mime => $5) as r`,
      [id, file.slot, file.filename, file.size, file.mime],
    );
    const r = rows[0]!.r as { file_id: string; bucket_id: string; object_path: string };
    return { fileId: r.file_id, bucketId: r.bucket_id, objectPath: r.object_path };
  },
  async removeFile(db, actor, id, fileId) {
    await rpc(db, actor, `select public.remove_upload_file(entity_id => $1::uuid, file_id => $2::uuid)`, [
      id,
      fileId,
    ]);
  },
  async delete(db, actor, id) {
    await rpc(db, actor, `select public.delete_upload(entity_id => $1::uuid)`, [id]);
  },
};

/** The RPCs the RPC driver needs; all must exist before the suite switches to them. */
export const REQUIRED_RPCS = [
  'public.create_upload_draft(text,jsonb,text,jsonb,boolean)',
  'public.begin_upload(uuid)',
  'public.register_upload_file(uuid,text,text,bigint,text,text)',
  'public.remove_upload_file(uuid,uuid)',
  'public.finalize_upload(uuid)',
  'public.fail_upload(uuid,text)',
  'public.retry_upload(uuid)',
  'public.delete_upload(uuid)',
] as const;

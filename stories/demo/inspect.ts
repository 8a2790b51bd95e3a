/**
 * What the DB panel shows and what the fault buttons do to the database, as the superuser or
 * the sweeper would — never through the upload machine.
 */
import { withActor, type SqlClient } from '../../src/db/client.js';

export interface EntityRow {
  id: string;
  kind: string;
  status: string;
  attempt: number;
  failure_reason: string | null;
  updated_at: string;
  completed_at: string | null;
}

export interface FileRow {
  id: string;
  slot: string;
  original_name: string;
  declared_size: number;
  declared_mime: string;
  object_path: string;
  stored_size: number | null;
  verified_at: string | null;
}

export interface EventRow {
  id: number;
  event: string;
  from_status: string | null;
  to_status: string | null;
  actor_role: string;
  detail: unknown;
  created_at: string;
}

export interface DatabaseView {
  entity: EntityRow | null;
  files: FileRow[];
  events: EventRow[];
}

export async function inspectEntity(sql: SqlClient, entityId: string | null): Promise<DatabaseView> {
  if (!entityId) return { entity: null, files: [], events: [] };
  const [entity, files, events] = await Promise.all([
    sql.query<EntityRow>(
      `select id, kind, status::text, attempt, failure_reason, updated_at::text, completed_at::text
         from upload_lifecycle.entities where id = $1`,
      [entityId],
    ),
    sql.query<FileRow>(
      `select f.id, f.slot, f.original_name, f.declared_size::int, f.declared_mime, f.object_path,
              (o.metadata->>'size')::int as stored_size, f.verified_at::text
         from upload_lifecycle.entity_files f
         left join storage.objects o on o.bucket_id = f.bucket_id and o.name = f.object_path
        where f.entity_id = $1 order by f.object_path`,
      [entityId],
    ),
    sql.query<EventRow>(
      `select id::int, event, from_status::text, to_status::text, actor_role, detail, created_at::text
         from upload_lifecycle.entity_events where entity_id = $1 order by id`,
      [entityId],
    ),
  ]);
  return { entity: entity.rows[0] ?? null, files: files.rows, events: events.rows };
}

/**
 * Runs the sweeper as if `hours` had passed: drafts past `draft_ttl` are deleted, uploads idle
 * past `upload_ttl` fail with reason `expired`.
 */
export async function sweepAfter(sql: SqlClient, hours: number): Promise<unknown> {
  return withActor(sql, { role: 'service_role' }, async (tx) => {
    const { rows } = await tx.query<{ result: unknown }>(
      `select public.sweep_upload_lifecycle(now() + make_interval(hours => $1)) as result`,
      [hours],
    );
    return rows[0]?.result;
  });
}

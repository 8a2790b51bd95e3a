/**
 * What must hold after every command, read back from the database and compared with the model:
 *   * every entity has the model's status and attempt (or is gone when the model says so), and the
 *     database holds no entity, file or object the model does not know;
 *   * no `completed` entity lacks a requirement, a verified file or a matching object;
 *   * the files of an entity are exactly the model's (so none was added to a completed entity);
 *   * `entity_events` replays through the lifecycle machine to the current status of every entity;
 *   * no signed-in user sees another user's entities, files, events or objects; anon sees nothing.
 */
import {
  initialLifecycle,
  statusOf,
  transitionLifecycle,
  type LifecycleEvent,
  type UploadStatus,
} from '../../src/machines/lifecycle.js';
import type { SqlClient } from '../support/db.js';
import {
  MODEL_KINDS,
  MODEL_USERS,
  objectKey,
  problemsOf,
  statusOfEntity,
  type LifecycleModel,
  type ModelObject,
} from '../support/model-lifecycle.js';

export interface DbState {
  entities: { id: string; owner_id: string; kind: string; status: UploadStatus; attempt: number }[];
  files: {
    id: string;
    entity_id: string;
    slot: string;
    bucket_id: string;
    object_path: string;
    declared_size: number;
    verified: boolean;
  }[];
  objects: { bucket_id: string; name: string; owner_id: string; size: number; mime: string }[];
  events: {
    entity_id: string;
    event: string;
    from: UploadStatus | null;
    to: UploadStatus | null;
    reason: string | null;
  }[];
}

const STATE_SQL = `
select json_build_object(
  'entities', (select coalesce(json_agg(json_build_object(
      'id', id, 'owner_id', owner_id, 'kind', kind, 'status', status, 'attempt', attempt)), '[]')
    from upload_lifecycle.entities),
  'files', (select coalesce(json_agg(json_build_object(
      'id', id, 'entity_id', entity_id, 'slot', slot, 'bucket_id', bucket_id, 'object_path', object_path,
      'declared_size', declared_size, 'verified', verified_at is not null)), '[]')
    from upload_lifecycle.entity_files),
  'objects', (select coalesce(json_agg(json_build_object(
      'bucket_id', bucket_id, 'name', name, 'owner_id', owner_id,
      'size', (metadata ->> 'size')::bigint, 'mime', metadata ->> 'mimetype')), '[]')
    from storage.objects),
  'events', (select coalesce(json_agg(json_build_object(
      'entity_id', entity_id, 'event', event, 'from', from_status, 'to', to_status,
      'reason', detail ->> 'failure_reason') order by id), '[]')
    from upload_lifecycle.entity_events)
) as state`;

/**
 * A test-only helper (own schema, nothing of the system under test): what each user sees, as that
 * user — `set local role authenticated` + their claims, exactly as PostgREST does — and what anon
 * sees of storage, in one call whose plans PL/pgSQL caches. Invoker rights, so RLS applies to the
 * role it switches to; it ends back as the session user.
 */
export const VISIBILITY_HELPER_SQL = `
create schema if not exists property_test;
create or replace function property_test.visible_owners(p_users uuid[])
returns jsonb
language plpgsql
as $$
declare
  v_user uuid;
  v_out jsonb := '[]'::jsonb;
  v_row jsonb;
  v_anon int;
begin
  foreach v_user in array p_users loop
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('role', 'authenticated', 'sub', v_user, 'aud', 'authenticated')::text, true);
    select jsonb_build_object(
      'entities', (select coalesce(jsonb_agg(owner_id), '[]') from upload_lifecycle.entities),
      'files', (select coalesce(jsonb_agg(e.owner_id), '[]') from upload_lifecycle.entity_files f
                left join upload_lifecycle.entities e on e.id = f.entity_id),
      'events', (select coalesce(jsonb_agg(owner_id), '[]') from upload_lifecycle.entity_events),
      'objects', (select coalesce(jsonb_agg(owner_id), '[]') from storage.objects)
    ) into v_row;
    v_out := v_out || jsonb_build_array(v_row);
  end loop;
  perform set_config('role', 'anon', true);
  perform set_config('request.jwt.claims', '{"role":"anon"}', true);
  select count(*) into v_anon from storage.objects;
  perform set_config('role', 'none', true);
  perform set_config('request.jwt.claims', '', true);
  return jsonb_build_object('users', v_out, 'anon_objects', v_anon,
    'anon_lifecycle', has_schema_privilege('anon', 'upload_lifecycle', 'usage'));
end
$$;`;

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

const parse = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

export async function readState(db: SqlClient): Promise<DbState> {
  const { rows } = await db.query<{ state: unknown }>(STATE_SQL);
  return parse<DbState>(rows[0]!.state);
}

export async function checkInvariants(model: LifecycleModel, db: SqlClient): Promise<void> {
  const state = await readState(db);
  checkAgainstModel(model, state);
  checkCompleted(state);
  checkReplay(state);
  // Visibility is a function of the rows (the policies do not change during a run): when a
  // command changed nothing — it was refused, or only moved the model's clock — the last check holds.
  const serialized = JSON.stringify(state);
  if (serialized === model.lastState) return;
  await checkVisibility(db, model);
  model.lastState = serialized;
}

function checkAgainstModel(model: LifecycleModel, state: DbState): void {
  const rows = new Map(state.entities.map((e) => [e.id, e]));
  for (const entity of model.entities) {
    const row = rows.get(entity.id);
    const expected = statusOfEntity(entity);
    if (expected === null) {
      if (row) fail(`entity ${entity.id} should be gone but is ${row.status}`);
      continue;
    }
    if (!row) fail(`entity ${entity.id} is missing; the model has it ${expected}`);
    if (row.status !== expected) fail(`entity ${entity.id} is ${row.status}; the model says ${expected}`);
    if (row.attempt !== entity.snapshot.context.attempt)
      fail(`entity ${entity.id} attempt ${row.attempt}; the model says ${entity.snapshot.context.attempt}`);
  }
  const known = new Set(model.entities.map((e) => e.id));
  for (const row of state.entities)
    if (!known.has(row.id)) fail(`unexpected entity ${row.id} (${row.status})`);

  const modelFiles = new Map(model.files.map((f) => [f.id, f]));
  for (const row of state.files) {
    const f = modelFiles.get(row.id);
    if (!f) fail(`unexpected file ${row.id} on entity ${row.entity_id}`);
    if (f.entityId !== row.entity_id) fail(`file ${row.id} moved to entity ${row.entity_id}`);
    if (f.verified !== row.verified)
      fail(`file ${row.id} verified=${row.verified}; the model says ${f.verified}`);
  }
  if (state.files.length !== model.files.length)
    fail(`${state.files.length} file rows; the model has ${model.files.length}`);

  const objects = new Map(state.objects.map((o) => [objectKey(o.bucket_id, o.name), o]));
  for (const [key, o] of model.objects) {
    const row = objects.get(key);
    if (!row) fail(`object ${key} is missing`);
    if (row.owner_id !== o.ownerId || Number(row.size) !== o.size || row.mime !== o.mime)
      fail(`object ${key} is ${JSON.stringify(row)}; the model has ${JSON.stringify(o)}`);
  }
  if (objects.size !== model.objects.size)
    fail(`${objects.size} objects; the model has ${model.objects.size}`);
}

/** The invariants that need no model: completed rows are complete, events replay to every status. */
export function checkDatabaseInvariants(state: DbState): void {
  checkCompleted(state);
  checkReplay(state);
}

function checkCompleted(state: DbState): void {
  const objects = new Map<string, Pick<ModelObject, 'ownerId' | 'size' | 'mime'>>(
    state.objects.map((o) => [
      objectKey(o.bucket_id, o.name),
      { ownerId: o.owner_id, size: Number(o.size), mime: o.mime },
    ]),
  );
  for (const e of state.entities.filter((x) => x.status === 'completed')) {
    const kind = MODEL_KINDS.find((k) => k.kind === e.kind)!;
    const problems = problemsOf(
      {
        ownerId: e.owner_id,
        kind,
        files: state.files
          .filter((f) => f.entity_id === e.id)
          .map((f) => ({
            slot: f.slot,
            bucketId: f.bucket_id,
            objectPath: f.object_path,
            declaredSize: Number(f.declared_size),
            verified: f.verified,
          })),
        objectAt: (b, n) => objects.get(objectKey(b, n)),
      },
      true,
    );
    if (problems.length > 0) fail(`entity ${e.id} is completed but: ${problems.join('; ')}`);
  }
}

function eventOf(row: DbState['events'][number]): LifecycleEvent {
  switch (row.event) {
    case 'finalize':
      // The commit-time check is what let it through; the invariants above re-check the files.
      return { type: 'finalize', requirementsMet: true };
    case 'fail':
      return { type: 'fail', reason: row.reason ?? 'unspecified' };
    case 'create':
    case 'begin_upload':
    case 'retry':
      return { type: row.event };
    default:
      return fail(`unknown event ${row.event} in entity_events`);
  }
}

function checkReplay(state: DbState): void {
  const rows = new Map(state.entities.map((e) => [e.id, e]));
  const byEntity = new Map<string, DbState['events']>();
  for (const ev of state.events) byEntity.set(ev.entity_id, [...(byEntity.get(ev.entity_id) ?? []), ev]);
  for (const row of state.entities) if (!byEntity.has(row.id)) fail(`entity ${row.id} has no events`);
  for (const [id, events] of byEntity) {
    const row = rows.get(id);
    const kind = row ? MODEL_KINDS.find((k) => k.kind === row.kind) : undefined;
    let snapshot = initialLifecycle({ maxAttempts: kind?.maxAttempts });
    let deleted = false;
    for (const ev of events) {
      if (deleted) fail(`entity ${id}: event ${ev.event} after delete`);
      if (ev.event === 'delete') {
        if (ev.from !== statusOf(snapshot))
          fail(`entity ${id}: delete from ${ev.from}, replay is at ${statusOf(snapshot)}`);
        deleted = true;
        continue;
      }
      const step = transitionLifecycle(snapshot, eventOf(ev));
      if (!step.accepted || step.from !== ev.from || step.to !== ev.to)
        fail(
          `entity ${id}: event ${ev.event} ${ev.from} → ${ev.to} does not replay from ${statusOf(snapshot)}`,
        );
      snapshot = step.snapshot;
    }
    if (deleted && row) fail(`entity ${id} has a delete event but still exists`);
    if (!deleted && !row) fail(`entity ${id} is gone without a delete event`);
    if (row && row.status !== statusOf(snapshot))
      fail(`entity ${id} is ${row.status}; its events replay to ${statusOf(snapshot)}`);
  }
}

async function checkVisibility(db: SqlClient, model: LifecycleModel): Promise<void> {
  const seen = await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ v: unknown }>(`select property_test.visible_owners($1::uuid[]) as v`, [
      MODEL_USERS,
    ]);
    return parse<{
      users: Record<string, (string | null)[]>[];
      anon_objects: number;
      anon_lifecycle: boolean;
    }>(rows[0]!.v);
  });
  MODEL_USERS.forEach((userId, i) => {
    const visible = seen.users[i]!;
    for (const [table, owners] of Object.entries(visible)) {
      const foreign = owners.filter((o) => o !== userId);
      if (foreign.length > 0) fail(`user ${userId} sees ${foreign.length} ${table} row(s) of other users`);
    }
    const own = model.entities.filter((e) => e.exists && MODEL_USERS[e.owner] === userId).length;
    if (visible.entities!.length !== own)
      fail(`user ${userId} sees ${visible.entities!.length} entities, owns ${own}`);
  });
  if (seen.anon_objects !== 0) fail(`anon sees ${seen.anon_objects} storage objects`);
  if (seen.anon_lifecycle) fail('anon has USAGE on schema upload_lifecycle');
}

/**
 * What must hold after every command, read back from the database and compared with the model:
 *   * every entity has the model's status, attempt and idempotency key (or is gone when the model
 *     says so), and the database holds no entity, file or object the model does not know;
 *   * no `completed` entity lacks a requirement — as the requirements stood when it completed —,
 *     a verified file or a matching object;
 *   * the files of an entity are exactly the model's (so none was added to a completed entity);
 *   * the deletion outbox holds exactly the model's pending paths: every path whose file row went
 *     away, by whichever path, was queued in the same transaction, with the database's reason;
 *   * kinds, requirements and their buckets are what the admins set (buckets follow requirements);
 *   * `entity_events` replays through the lifecycle machine to the current status of every entity;
 *   * no signed-in user sees another user's entities, files, events or objects; anon sees nothing.
 *
 * Cost: none when nothing went through the client since the last check but scripts that rolled
 * back (PGlite: the client counts what may have written), otherwise one round trip.
 * `property_test.observe` (a test-only PL/pgSQL helper, so its plans are
 * cached) answers nothing when no transaction has written since the last check — the snapshot's
 * xmax has not moved, so the database is provably the same — and the last state is checked
 * against the model again; otherwise it answers the state, and the visibility too when the state
 * changed.
 */
import {
  initialLifecycle,
  statusOf,
  transitionLifecycle,
  type LifecycleEvent,
  type LifecycleSnapshot,
  type UploadStatus,
} from '../../src/machines/lifecycle.js';
import type { SqlClient } from '../support/db.js';
import {
  MODEL_KINDS,
  MODEL_USERS,
  bucketLimits,
  objectKey,
  problemsOf,
  statusOfEntity,
  type LifecycleModel,
  type ModelKind,
  type ModelObject,
  type ModelRequirement,
} from '../support/model-lifecycle.js';
import { literal, type ScriptClient } from './sql.js';

export interface DbState {
  entities: {
    id: string;
    owner_id: string;
    kind: string;
    status: UploadStatus;
    attempt: number;
    idempotency_key: string | null;
  }[];
  files: {
    id: string;
    entity_id: string;
    slot: string;
    bucket_id: string;
    object_path: string;
    declared_size: number;
    verified: boolean;
    file_key: string | null;
  }[];
  objects: { bucket_id: string; name: string; owner_id: string; size: number; mime: string }[];
  events: {
    entity_id: string;
    kind: string;
    event: string;
    from: UploadStatus | null;
    to: UploadStatus | null;
    reason: string | null;
  }[];
  /** Pending rows of the deletion outbox. */
  outbox: { bucket_id: string; object_path: string; reason: string }[];
  kinds: {
    kind: string;
    max_attempts: number;
    draft_ttl: number;
    upload_ttl: number;
    failed_ttl: number;
  }[];
  requirements: {
    kind: string;
    slot: string;
    min_count: number;
    max_count: number;
    max_bytes: number;
    allowed_mime_types: string[];
  }[];
  buckets: { id: string; file_size_limit: number | null; allowed_mime_types: string[] | null }[];
}

interface Visibility {
  users: Record<string, (string | null)[]>[];
  anon_objects: number;
  anon_lifecycle: boolean;
}

const hours = (column: string) => `extract(epoch from ${column}) / 3600`;

const STATE_SQL = `
select json_build_object(
  'entities', (select coalesce(json_agg(json_build_object(
      'id', id, 'owner_id', owner_id, 'kind', kind, 'status', status, 'attempt', attempt,
      'idempotency_key', idempotency_key) order by id), '[]')
    from upload_lifecycle.entities),
  'files', (select coalesce(json_agg(json_build_object(
      'id', id, 'entity_id', entity_id, 'slot', slot, 'bucket_id', bucket_id, 'object_path', object_path,
      'declared_size', declared_size, 'verified', verified_at is not null,
      'file_key', to_jsonb(f) ->> 'file_key') order by id), '[]')
    from upload_lifecycle.entity_files f),
  'objects', (select coalesce(json_agg(json_build_object(
      'bucket_id', bucket_id, 'name', name, 'owner_id', owner_id,
      'size', (metadata ->> 'size')::bigint, 'mime', metadata ->> 'mimetype') order by bucket_id, name), '[]')
    from storage.objects),
  'events', (select coalesce(json_agg(json_build_object(
      'entity_id', entity_id, 'kind', kind, 'event', event, 'from', from_status, 'to', to_status,
      'reason', detail ->> 'failure_reason') order by id), '[]')
    from upload_lifecycle.entity_events where id > (select events_after from property_test.run)),
  'outbox', (select coalesce(json_agg(json_build_object(
      'bucket_id', bucket_id, 'object_path', object_path, 'reason', reason) order by bucket_id, object_path), '[]')
    from upload_lifecycle.storage_deletions where done_at is null),
  'kinds', (select coalesce(json_agg(json_build_object(
      'kind', kind, 'max_attempts', max_attempts, 'draft_ttl', ${hours('draft_ttl')},
      'upload_ttl', ${hours('upload_ttl')}, 'failed_ttl', ${hours('failed_ttl')}) order by kind), '[]')
    from upload_lifecycle.entity_kinds),
  'requirements', (select coalesce(json_agg(json_build_object(
      'kind', kind, 'slot', slot, 'min_count', min_count, 'max_count', max_count, 'max_bytes', max_bytes,
      'allowed_mime_types', allowed_mime_types) order by kind, slot), '[]')
    from upload_lifecycle.file_requirements),
  'buckets', (select coalesce(json_agg(json_build_object(
      'id', b.id, 'file_size_limit', b.file_size_limit, 'allowed_mime_types', b.allowed_mime_types) order by b.id), '[]')
    from storage.buckets b where b.id in (select bucket_id from upload_lifecycle.entity_kinds))
)`;

/**
 * Test-only helpers in their own schema (nothing of the system under test):
 *   * `observe(users, since, last_md5)`: the state (or nothing when no transaction wrote since
 *     `since`), and what each user sees, as that user — `set local role authenticated` + their
 *     claims, exactly as PostgREST does — and what anon sees, when the state changed;
 *   * `state()`: the state alone, for the suites without a model.
 * Invoker rights, so RLS applies to the role it switches to; it ends back as the session user.
 */
export const VISIBILITY_HELPER_SQL = `
create schema if not exists property_test;
drop function if exists property_test.observe(uuid[], text, text);
drop function if exists property_test.state();
create or replace function property_test.state()
returns json
language plpgsql
as $$
begin
  return (${STATE_SQL});
end
$$;

create or replace function property_test.visibility(p_users uuid[], p_events_after bigint)
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
      'events', (select coalesce(jsonb_agg(owner_id), '[]') from upload_lifecycle.entity_events
                 where id > p_events_after),
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
$$;

create or replace function property_test.observe(p_users uuid[], p_since text, p_last_md5 text)
returns json
language plpgsql
as $$
declare
  v_xmax text := pg_snapshot_xmax(pg_current_snapshot())::text;
  v_state json;
  v_md5 text;
begin
  if v_xmax = p_since then
    return json_build_object('xmax', v_xmax);
  end if;
  v_state := property_test.state();
  v_md5 := md5(v_state::text);
  if v_md5 = p_last_md5 then
    return json_build_object('xmax', v_xmax, 'md5', v_md5, 'same', true);
  end if;
  return json_build_object('xmax', v_xmax, 'md5', v_md5, 'state', v_state,
                            'visibility', property_test.visibility(p_users,
                              (select events_after from property_test.run)));
end
$$;`;

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

const parse = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

async function one<T>(db: SqlClient, statement: string): Promise<T> {
  const result = await db.exec(statement);
  const results = (Array.isArray(result) ? result : [result]) as { rows: { v: unknown }[] }[];
  return parse<T>(results[results.length - 1]!.rows[0]!.v);
}

export async function readState(db: SqlClient): Promise<DbState> {
  return one<DbState>(db, 'select property_test.state() as v');
}

/** What the last check saw, per model: the xmax it was taken at, its digest and the state. */
interface Observed {
  xmax: string;
  md5: string;
  state: DbState;
  /** The replay of each entity's events, keyed by the events it was computed from. */
  replays: Map<string, { signature: string; snapshot: LifecycleSnapshot | 'deleted' }>;
  /** The client's write count right after this check read (see ClientWrites). */
  writes: number;
}

const observed = new WeakMap<LifecycleModel, Observed>();

export const checkCounters = { reads: 0, skipped: 0, visibility: 0 };

/**
 * The other reads the checks after a command make (today `checkJobs`' query), per PGlite client:
 * learnt the first time a check sends one, then sent in the same round trip as `observe`, and
 * answered from there while the client's write count has not moved since (see {@link checksClient}).
 * Each is a prepared statement of the session (`PREPARE` the first time, `EXECUTE` after): an
 * inline query is parsed and planned again at every check (checkJobs' join: about 1 ms on PGlite
 * for a handful of rows), a prepared one keeps its plan — PostgreSQL re-plans it by itself when a
 * table it reads changes. A prepared statement outlives the read-only transaction's rollback.
 */
interface CheckReads {
  texts: string[];
  /** The prepared statement of each text (`texts[i]` is `property_check_<n>`). */
  names: Map<string, string>;
  answers: Map<string, { writes: number; rows: unknown[] }>;
}

/** Prepared statement names, unique in the process (two clients may share one session). */
let preparedChecks = 0;

const checkReads = new WeakMap<SqlClient, CheckReads>();

function readsOf(db: SqlClient): CheckReads {
  let reads = checkReads.get(db);
  if (!reads) checkReads.set(db, (reads = { texts: [], names: new Map(), answers: new Map() }));
  return reads;
}

/**
 * The client the other checks after a command read through (`checkJobs`). On PGlite a query
 * without parameters is answered from the rows it returned at the current write count — read in
 * the {@link checkInvariants} round trip just before, or earlier when no statement that may write
 * has gone through the client since (the database is provably the one those rows came from) —,
 * and otherwise read in a read-only transaction that is rolled back, so a check's read never
 * counts as a write. Anything else (and PostgreSQL) goes to `db` itself.
 */
export function checksClient(db: SqlClient): SqlClient {
  const client = db as ScriptClient;
  const written = client.written;
  const read = client.read;
  if (!written || !read) return db;
  const reads = readsOf(db);
  return {
    ...db,
    query: async <T>(text: string, params?: unknown[]) => {
      if (params?.length) return db.query<T>(text, params);
      const known = reads.answers.get(text);
      if (known && known.writes === written.writes) return { rows: known.rows as T[] };
      let name = reads.names.get(text);
      let results: { rows: unknown[] }[];
      if (name) results = (await read(`execute ${name}`)) as { rows: unknown[] }[];
      else {
        name = `property_check_${preparedChecks++}`;
        // begin, prepare, execute, rollback: the rows are the third result.
        results = (
          (await read(`prepare ${name} as ${text};\nexecute ${name}`)) as { rows: unknown[] }[]
        ).slice(1);
        reads.names.set(text, name);
        reads.texts.push(text);
      }
      const rows = results[1]!.rows;
      reads.answers.set(text, { writes: written.writes, rows });
      return { rows: rows as T[] };
    },
  };
}

export async function checkInvariants(model: LifecycleModel, db: SqlClient): Promise<void> {
  const last = observed.get(model);
  const client = db as ScriptClient;
  const written = client.written;
  let current: Observed;
  let visibility: Visibility | undefined;
  if (written && last && last.writes === written.writes) {
    // No statement that may write went through the client since the last check (only scripts
    // that rolled back, and the checks' own read-only reads): the database is provably the state
    // read then (what the xmax test below answers, without the round trip), checked against
    // today's model.
    checkCounters.skipped++;
    current = last;
  } else {
    const observe = `select property_test.observe(${literal(`{${MODEL_USERS.join(',')}}`)}::uuid[], ${literal(last?.xmax ?? '')}, ${literal(last?.md5 ?? '')}) as v`;
    let answer: {
      xmax: string;
      md5?: string;
      same?: true;
      state?: DbState;
      visibility?: Visibility;
    };
    if (written && client.read) {
      // One read-only round trip: observe, then the other checks' reads (answered to them by
      // checksClient at this write count).
      const reads = readsOf(db);
      const executes = reads.texts.map((text) => `execute ${reads.names.get(text)!}`);
      const results = (await client.read([observe, ...executes].join(';\n'))) as {
        rows: Record<string, unknown>[];
      }[];
      answer = parse(results[1]!.rows[0]!.v);
      reads.texts.forEach((text, i) =>
        reads.answers.set(text, { writes: written.writes, rows: results[2 + i]!.rows }),
      );
    } else answer = await one(db, observe);
    const writes = written?.writes ?? 0;
    if (!answer.state) {
      // No transaction wrote since the last check, or what they wrote left the state as it was:
      // the same state, checked against today's model.
      if (!last) fail('the first check of a run read no state');
      checkCounters.skipped++;
      current = { ...last, xmax: answer.xmax, writes };
    } else {
      checkCounters.reads++;
      current = {
        xmax: answer.xmax,
        md5: answer.md5!,
        state: answer.state,
        replays: last?.replays ?? new Map(),
        writes,
      };
      visibility = answer.visibility;
    }
  }
  checkAgainstModel(model, current.state);
  checkCompleted(current.state, (id) => {
    const e = model.entities.find((x) => x.id === id);
    return e?.completedWith && { ...e.kind, requirements: e.completedWith };
  });
  checkReplay(current.state, (kind) => model.maxAttemptsEver.get(kind), current.replays);
  if (visibility) {
    checkCounters.visibility++;
    checkVisibility(visibility, model);
  }
  observed.set(model, current);
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
    if (row.owner_id !== MODEL_USERS[entity.owner])
      fail(`entity ${entity.id} changed owner to ${row.owner_id}`);
    if ((row.idempotency_key ?? undefined) !== entity.idempotencyKey)
      fail(
        `entity ${entity.id} idempotency key ${row.idempotency_key}; the model has ${entity.idempotencyKey}`,
      );
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
    if (f.key !== undefined && row.file_key !== f.key)
      fail(`file ${row.id} has key ${row.file_key}; the model has ${f.key}`);
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

  const outbox = new Map(state.outbox.map((d) => [objectKey(d.bucket_id, d.object_path), d.reason]));
  for (const [key, reason] of model.outbox) {
    const queued = outbox.get(key);
    if (!queued) fail(`the file row of ${key} is gone but its path is not in the deletion outbox`);
    if (queued !== reason) fail(`${key} is queued for deletion as ${queued}; the model says ${reason}`);
  }
  for (const key of outbox.keys())
    if (!model.outbox.has(key)) fail(`${key} is queued for deletion; the model queued nothing there`);

  checkKinds(model.kinds, state);
}

const sameTypes = (a: readonly string[] | null, b: readonly string[]) =>
  a !== null && [...new Set(a)].sort().join() === [...new Set(b)].sort().join();

function checkKinds(kinds: readonly ModelKind[], state: DbState): void {
  for (const k of kinds) {
    const row = state.kinds.find((x) => x.kind === k.kind);
    if (!row) fail(`kind ${k.kind} is missing`);
    const want = [k.maxAttempts, k.draftTtl, k.uploadTtl, k.failedTtl];
    const have = [row.max_attempts, Number(row.draft_ttl), Number(row.upload_ttl), Number(row.failed_ttl)];
    if (want.join() !== have.join())
      fail(`kind ${k.kind} has max_attempts/TTLs ${have.join('/')}; the admins set ${want.join('/')}`);
    for (const r of k.requirements) {
      const req = state.requirements.find((x) => x.kind === k.kind && x.slot === r.slot);
      if (
        !req ||
        req.min_count !== r.minCount ||
        req.max_count !== r.maxCount ||
        Number(req.max_bytes) !== r.maxBytes ||
        !sameTypes(req.allowed_mime_types, r.allowedMimeTypes)
      )
        fail(
          `requirement ${k.kind}.${r.slot} is ${JSON.stringify(req)}; the admins set ${JSON.stringify(r)}`,
        );
    }
    const bucket = state.buckets.find((b) => b.id === k.bucketId);
    const limits = bucketLimits(k);
    if (
      !bucket ||
      Number(bucket.file_size_limit) !== limits.maxBytes ||
      !sameTypes(bucket.allowed_mime_types, limits.mimeTypes)
    )
      fail(
        `bucket ${k.bucketId} is ${JSON.stringify(bucket)}; its requirements make it ${JSON.stringify(limits)}`,
      );
  }
}

/**
 * The invariants that need no model: completed rows are complete, events replay to every status.
 * Without a model, "complete" is judged by the requirements in the database now.
 */
export function checkDatabaseInvariants(state: DbState): void {
  checkCompleted(state, () => undefined);
  checkReplay(state, () => undefined, new Map());
}

function requirementsInDb(state: DbState, kind: string): ModelRequirement[] {
  return state.requirements
    .filter((r) => r.kind === kind)
    .map((r) => ({
      slot: r.slot,
      minCount: r.min_count,
      maxCount: r.max_count,
      maxBytes: Number(r.max_bytes),
      allowedMimeTypes: r.allowed_mime_types,
    }));
}

function checkCompleted(state: DbState, completedWith: (entityId: string) => ModelKind | undefined): void {
  const objects = new Map<string, Pick<ModelObject, 'ownerId' | 'size' | 'mime'>>(
    state.objects.map((o) => [
      objectKey(o.bucket_id, o.name),
      { ownerId: o.owner_id, size: Number(o.size), mime: o.mime },
    ]),
  );
  for (const e of state.entities) {
    if (e.status !== 'completed') continue;
    const kind = completedWith(e.id) ?? {
      ...MODEL_KINDS.find((k) => k.kind === e.kind)!,
      requirements: requirementsInDb(state, e.kind),
    };
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
      return { type: 'finalize', requirementsMet: true, processorsRequired: row.to === 'processing' };
    case 'processed':
      // Likewise: the commit-time check refuses `completed` while a required job is not complete.
      return { type: 'processed', requiredJobsComplete: true };
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

/**
 * Replays each entity's events through the machine. A retry is replayed under the highest
 * max_attempts its kind had during the run: the command that sent it already checked the guard
 * against the value of that moment. A replay is cached by the exact events it read, so an entity
 * whose events did not change is not replayed again (every row is still compared).
 */
function checkReplay(
  state: DbState,
  maxAttemptsOf: (kind: string) => number | undefined,
  cache: Observed['replays'],
): void {
  const rows = new Map(state.entities.map((e) => [e.id, e]));
  const byEntity = new Map<string, DbState['events']>();
  for (const ev of state.events) {
    const list = byEntity.get(ev.entity_id);
    if (list) list.push(ev);
    else byEntity.set(ev.entity_id, [ev]);
  }
  for (const row of state.entities) if (!byEntity.has(row.id)) fail(`entity ${row.id} has no events`);
  for (const [id, events] of byEntity) {
    const row = rows.get(id);
    const kind = events[0]!.kind;
    const maxAttempts = maxAttemptsOf(kind) ?? state.kinds.find((k) => k.kind === kind)?.max_attempts;
    const signature = `${maxAttempts}|${JSON.stringify(events)}`;
    let result = cache.get(id)?.signature === signature ? cache.get(id)!.snapshot : undefined;
    if (result === undefined) {
      result = replay(id, events, maxAttempts);
      cache.set(id, { signature, snapshot: result });
    }
    if (result === 'deleted') {
      if (row) fail(`entity ${id} has a delete event but still exists`);
      continue;
    }
    if (!row) fail(`entity ${id} is gone without a delete event`);
    if (row.status !== statusOf(result))
      fail(`entity ${id} is ${row.status}; its events replay to ${statusOf(result)}`);
  }
}

function replay(
  id: string,
  events: DbState['events'],
  maxAttempts: number | undefined,
): LifecycleSnapshot | 'deleted' {
  let snapshot = initialLifecycle({ maxAttempts });
  for (const [i, ev] of events.entries()) {
    if (ev.event === 'delete') {
      if (ev.from !== statusOf(snapshot))
        fail(`entity ${id}: delete from ${ev.from}, replay is at ${statusOf(snapshot)}`);
      if (i !== events.length - 1) fail(`entity ${id}: event ${events[i + 1]!.event} after delete`);
      return 'deleted';
    }
    const step = transitionLifecycle(snapshot, eventOf(ev));
    if (!step.accepted || step.from !== ev.from || step.to !== ev.to)
      fail(
        `entity ${id}: event ${ev.event} ${ev.from} → ${ev.to} does not replay from ${statusOf(snapshot)}`,
      );
    snapshot = step.snapshot;
  }
  return snapshot;
}

function checkVisibility(seen: Visibility, model: LifecycleModel): void {
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

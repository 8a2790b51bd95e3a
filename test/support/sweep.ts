/**
 * The sweep and the deletion outbox for tests (recovery suites, the property suite, benchmarks):
 * run the sweep at a chosen time, drain the outbox through the embedded worker, move the clock,
 * and read back what recovery must guarantee.
 *
 * Time: `runSweep(db, { hours: 25 })` sweeps as if it were 25 hours after the database's `now()`.
 * Every timestamp the sweep reads (status_changed_at, file created_at, object updated_at) is the
 * real time of the write, so "the clock" of a test is the offset given to the sweep — or, to move
 * every stored timestamp instead, `ageDatabase(db, hours)`, after which a plain `runSweep(db)`
 * sees rows `hours` older.
 *
 * For a model-based suite with a clock: advance the clock with `ageDatabase(db, hours)` and sweep
 * with `runSweep(db)` (or `sweepUntilQuiet(db)`), so every row's real age equals its model age.
 * Sweeping at `now() + clock` instead makes every row look `clock` hours old, whenever it was
 * written. The rules to model (0031): a draft goes when `age(status) >= draft_ttl`; a failed row
 * when `age(status) >= failed_ttl`; an upload fails with `expired` when the newest of its status
 * change, its file registrations and its objects' writes is `>= upload_ttl` old (its new status
 * is then 0 h old, so it is not deleted by the same sweep at the real time); an object without
 * a file row goes (after a drain) once `>= orphan_grace` (1 h) old; completed rows and objects
 * that a file row owns are never touched. `recover(db)` = sweep until quiet + drain.
 */
import {
  createMemoryObjectStore,
  drainEmbeddedStorageDeletions,
  type DrainOptions,
  type DrainReport,
  type EmbeddedObjectStore,
  type KeyedByteStore,
} from '../../src/adapters/storage-deletions.js';
import { as, service, type SqlClient } from './db.js';

export interface SweepCounts {
  drafts_deleted: number;
  uploads_expired: number;
  failed_deleted: number;
  orphans_queued: number;
  objects_scanned: number;
  orphan_pass_complete: boolean;
  outbox_pruned: number;
  job_leases_expired: number;
  processing_failed: number;
  job_events_pruned: number;
  dead_letters_pruned: number;
  batch: number;
}

/** When the sweep runs: an absolute time, or hours after the database's `now()`. */
export type SweepAt = Date | { hours?: number };

function nowSql(at: SweepAt): { sql: string; param: string | number } {
  return at instanceof Date
    ? { sql: '$1::timestamptz', param: at.toISOString() }
    : { sql: `now() + $1 * interval '1 hour'`, param: at.hours ?? 0 };
}

/** One `sweep_upload_lifecycle(now, batch)` call as service_role. */
export async function runSweep(
  db: SqlClient,
  at: SweepAt = { hours: 0 },
  batch = 1000,
): Promise<SweepCounts> {
  const now = nowSql(at);
  const { rows } = await as(db, service, (tx) =>
    tx.query<{ counts: SweepCounts }>(`select public.sweep_upload_lifecycle(${now.sql}, $2) as counts`, [
      now.param,
      batch,
    ]),
  );
  return rows[0]!.counts;
}

const FOUND: (keyof SweepCounts)[] = [
  'drafts_deleted',
  'uploads_expired',
  'failed_deleted',
  'orphans_queued',
];

/** True when a sweep call found work (not counting objects merely scanned). */
export function foundWork(counts: SweepCounts): boolean {
  return FOUND.some((key) => Number(counts[key]) > 0);
}

export type SweepTotals = Omit<SweepCounts, 'orphan_pass_complete' | 'batch'> & { calls: number };

/**
 * Sweeps until a whole orphan pass finds nothing and no step found work: what "the sweep has
 * caught up" means, whatever the batch. Throws after `maxCalls` (a sweep that never settles is a bug).
 */
export async function sweepUntilQuiet(
  db: SqlClient,
  at: SweepAt = { hours: 0 },
  batch = 1000,
  maxCalls = 10_000,
): Promise<SweepTotals> {
  const totals: SweepTotals = {
    drafts_deleted: 0,
    uploads_expired: 0,
    failed_deleted: 0,
    orphans_queued: 0,
    objects_scanned: 0,
    outbox_pruned: 0,
    job_leases_expired: 0,
    processing_failed: 0,
    job_events_pruned: 0,
    dead_letters_pruned: 0,
    calls: 0,
  };
  let foundInPass = false;
  while (totals.calls < maxCalls) {
    const counts = await runSweep(db, at, batch);
    totals.calls += 1;
    for (const key of Object.keys(totals) as (keyof SweepTotals)[]) {
      if (key !== 'calls') totals[key] += Number(counts[key as keyof SweepCounts]);
    }
    if (foundWork(counts)) foundInPass = true;
    if (counts.orphan_pass_complete) {
      if (!foundInPass) return totals;
      foundInPass = false;
    }
  }
  throw new Error(`the sweep did not settle after ${maxCalls} calls`);
}

/**
 * Drains the outbox with the embedded worker until no row is due. Rows postponed by a failure
 * are not due yet and stay queued (see `makeDeletionsDue`).
 */
export async function drainAll(
  db: SqlClient,
  store: EmbeddedObjectStore | KeyedByteStore = createMemoryObjectStore(),
  options: DrainOptions = {},
): Promise<DrainReport> {
  return drainEmbeddedStorageDeletions(db, store, options);
}

/** Sweep until quiet, then drain: the whole recovery at time `at`. */
export async function recover(
  db: SqlClient,
  at: SweepAt = { hours: 0 },
  store: EmbeddedObjectStore | KeyedByteStore = createMemoryObjectStore(),
): Promise<{ sweep: SweepTotals; drain: DrainReport }> {
  const sweep = await sweepUntilQuiet(db, at);
  const drain = await drainAll(db, store);
  return { sweep, drain };
}

/**
 * Time travel: moves every timestamp the sweep and the outbox read `hours` into the past
 * (entities, files, objects, outbox), so the database looks `hours` older. Triggers are off for
 * these UPDATEs only (`session_replication_role = replica`, superuser) — the guards would rightly
 * refuse to rewrite history, and no audit event is wanted for it.
 */
export async function ageDatabase(db: SqlClient, hours: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`set local session_replication_role = replica`);
    const shift = `$1 * interval '1 hour'`;
    await tx.query(
      `update upload_lifecycle.entities set created_at = created_at - ${shift}, updated_at = updated_at - ${shift},
         status_changed_at = status_changed_at - ${shift}, completed_at = completed_at - ${shift}`,
      [hours],
    );
    await tx.query(`update upload_lifecycle.entity_files set created_at = created_at - ${shift}`, [hours]);
    await tx.query(
      `update storage.objects set created_at = created_at - ${shift}, updated_at = updated_at - ${shift}`,
      [hours],
    );
    await tx.query(
      `update upload_lifecycle.storage_deletions set created_at = created_at - ${shift},
         next_attempt_at = next_attempt_at - ${shift}, claimed_at = claimed_at - ${shift}, done_at = done_at - ${shift}`,
      [hours],
    );
  });
}

/** Makes every pending outbox row due now (skips the backoff of postponed rows). */
export async function makeDeletionsDue(db: SqlClient): Promise<void> {
  await db.query(
    `update upload_lifecycle.storage_deletions set next_attempt_at = now() where done_at is null`,
  );
}

export interface QueuedDeletion {
  id: number;
  bucket_id: string;
  object_path: string;
  reason: string;
  entity_id: string | null;
  attempts: number;
  done: boolean;
  last_error: string | null;
}

/** The outbox, oldest first (as the superuser). */
export async function queuedDeletions(db: SqlClient, options: { pendingOnly?: boolean } = {}) {
  const { rows } = await db.query<QueuedDeletion>(
    `select id::integer as id, bucket_id, object_path, reason, entity_id, attempts, done_at is not null as done, last_error
     from upload_lifecycle.storage_deletions ${options.pendingOnly ? 'where done_at is null' : ''} order by id`,
  );
  return rows;
}

/** Objects of lifecycle buckets that no file row owns. */
export async function orphanObjects(db: SqlClient): Promise<{ bucket_id: string; name: string }[]> {
  const { rows } = await db.query<{ bucket_id: string; name: string }>(
    `select o.bucket_id, o.name from storage.objects o
     where o.bucket_id in (select k.bucket_id from upload_lifecycle.entity_kinds k)
       and not exists (select 1 from upload_lifecycle.entity_files f
                       where f.bucket_id = o.bucket_id and f.object_path = o.name)
     order by 1, 2`,
  );
  return rows;
}

/**
 * Entities the sweep at `at` should have removed or failed: drafts past draft_ttl, failed rows
 * past failed_ttl, uploads idle past upload_ttl (same definition of idle as the sweep).
 */
export async function expiredRows(db: SqlClient, at: SweepAt = { hours: 0 }) {
  const now = nowSql(at);
  const { rows } = await db.query<{ id: string; status: string }>(
    `with t as (select ${now.sql} as now)
     select e.id, e.status::text from upload_lifecycle.entities e
     join upload_lifecycle.entity_kinds k on k.kind = e.kind, t
     where (e.status = 'draft' and e.status_changed_at <= t.now - k.draft_ttl)
        or (e.status = 'failed' and e.status_changed_at <= t.now - k.failed_ttl)
        or (e.status = 'uploading' and e.status_changed_at <= t.now - k.upload_ttl
            and not exists (select 1 from upload_lifecycle.entity_files f
                            where f.entity_id = e.id and f.created_at > t.now - k.upload_ttl)
            and not exists (select 1 from upload_lifecycle.entity_files f
                            join storage.objects o on o.bucket_id = f.bucket_id and o.name = f.object_path
                            where f.entity_id = e.id and o.updated_at > t.now - k.upload_ttl))
     order by e.id`,
    [now.param],
  );
  return rows;
}

/**
 * Time travel for one entity: its timestamps, its files' and its objects' move `hours` into the
 * past (triggers off, as in `ageDatabase`), so tests can build rows of different ages.
 */
export async function ageEntity(db: SqlClient, entityId: string, hours: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`set local session_replication_role = replica`);
    const shift = `$2 * interval '1 hour'`;
    await tx.query(
      `update upload_lifecycle.entities set created_at = created_at - ${shift}, updated_at = updated_at - ${shift},
         status_changed_at = status_changed_at - ${shift}, completed_at = completed_at - ${shift}
       where id = $1`,
      [entityId, hours],
    );
    await tx.query(
      `update storage.objects o set created_at = o.created_at - ${shift}, updated_at = o.updated_at - ${shift}
       from upload_lifecycle.entity_files f
       where f.entity_id = $1 and o.bucket_id = f.bucket_id and o.name = f.object_path`,
      [entityId, hours],
    );
    await tx.query(
      `update upload_lifecycle.entity_files set created_at = created_at - ${shift} where entity_id = $1`,
      [entityId, hours],
    );
  });
}

/** Writes an object with no file row (an orphan, or another bucket's object) `ageHours` old. */
export async function putLooseObject(
  db: SqlClient,
  bucketId: string,
  name: string,
  ageHours = 0,
): Promise<void> {
  await db.query(`insert into storage.buckets (id, name) values ($1, $1) on conflict (id) do nothing`, [
    bucketId,
  ]);
  await db.query(
    `insert into storage.objects (bucket_id, name, owner_id, metadata, created_at, updated_at)
     values ($1, $2, null, '{"size": 1, "mimetype": "application/pdf"}', now() - $3 * interval '1 hour', now() - $3 * interval '1 hour')`,
    [bucketId, name, ageHours],
  );
}

/** Does storage.objects hold (bucket, name)? */
export async function objectExists(db: SqlClient, bucketId: string, name: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `select exists (select 1 from storage.objects where bucket_id = $1 and name = $2) as found`,
    [bucketId, name],
  );
  return rows[0]!.found;
}

export interface SeedEntities {
  kind: string;
  /** Owners (auth.users ids), used round-robin. */
  owners: readonly string[];
  status: 'draft' | 'uploading' | 'completed' | 'failed';
  count: number;
  /** Hours since the last status change (and since the files and objects were written). */
  ageHours: number;
  /** Files per entity in the kind's `document` slot (0 for drafts). Default 1, 0 for drafts. */
  files?: number;
  /** Store each file's object in storage.objects. Default true. */
  objects?: boolean;
}

/**
 * Bulk load for large tests and benchmarks: `count` entities of one status, with their files and
 * objects, in three set-based INSERTs (`insert … select generate_series`).
 *
 * The load runs with `session_replication_role = replica`, which turns triggers off for this
 * transaction only: the guards would refuse rows created directly in a late status with past
 * timestamps (that is their job), and one trigger call per row would make a million rows take
 * minutes. The rows are shaped as the lifecycle would leave them (attempt, failure_reason,
 * completed_at, verified files with matching objects for `completed`), so the sweep, which runs
 * with every trigger on, cannot tell them apart. Needs the superuser (PGlite, or the server's
 * owner). Returns how many entities, files and objects were written.
 */
export async function seedEntities(db: SqlClient, seed: SeedEntities) {
  const files = seed.files ?? (seed.status === 'draft' ? 0 : 1);
  return db.transaction(async (tx) => {
    await tx.query(`set local session_replication_role = replica`);
    const { rows } = await tx.query<{ entities: number; files: number; objects: number }>(
      `with e as (
         insert into upload_lifecycle.entities
           (kind, owner_id, status, attempt, failure_reason, created_at, updated_at, status_changed_at, completed_at)
         select $1, ($2::uuid[])[1 + (i % cardinality($2::uuid[]))], $3::upload_lifecycle.upload_status,
                case when $3 = 'draft' then 0 else 1 end,
                case when $3 = 'failed' then 'client_error' end,
                now() - $5 * interval '1 hour', now() - $5 * interval '1 hour', now() - $5 * interval '1 hour',
                case when $3 = 'completed' then now() - $5 * interval '1 hour' end
         from generate_series(1, $4::integer) i
         returning id, owner_id, kind, status, status_changed_at
       ),
       f as (
         insert into upload_lifecycle.entity_files
           (id, entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime, verified_at, created_at)
         select g.fid, e.id, e.kind, 'document', k.bucket_id, format('%s/%s/%s', e.owner_id, e.id, g.fid), 'seed.pdf',
                100, 'application/pdf', case when e.status = 'completed' then e.status_changed_at end, e.status_changed_at
         from e
         join upload_lifecycle.entity_kinds k on k.kind = e.kind
         -- e.id inside keeps the subquery correlated, so each entity gets its own file ids.
         cross join lateral (select gen_random_uuid() as fid, e.id as for_entity from generate_series(1, $6::integer)) g
         returning bucket_id, object_path, created_at
       ),
       o as (
         insert into storage.objects (bucket_id, name, owner, owner_id, metadata, created_at, updated_at)
         select f.bucket_id, f.object_path, split_part(f.object_path, '/', 1)::uuid, split_part(f.object_path, '/', 1),
                '{"size": 100, "mimetype": "application/pdf"}'::jsonb, f.created_at, f.created_at
         from f where $7
         returning 1
       )
       select (select count(*)::integer from e) as entities, (select count(*)::integer from f) as files,
              (select count(*)::integer from o) as objects`,
      [seed.kind, seed.owners, seed.status, seed.count, seed.ageHours, files, seed.objects ?? true],
    );
    return rows[0]!;
  });
}

/** Time travel (timestamps shifted back) and the sweep. */
import { type SqlClient } from '../../support/db.js';
import {
  applyEvent,
  deleteEntity,
  filesOf,
  objectKey,
  statusOfEntity,
  type LifecycleModel,
} from '../../support/model-lifecycle.js';
import { literal, type ScriptClient } from '../sql.js';
import { type Real, count, LifecycleCommand } from './base.js';
import { artifactKeys, sweepJobs } from '../../support/model-jobs.js';

/**
 * Time travel: the rows age `hours`, as the model's clock says. On PGlite the database's clock
 * moves `hours` forward (DbClock in sql.ts: no row is written); elsewhere every timestamp in the
 * database moves `hours` into the past (as the superuser, triggers off) while `now()` stays real.
 * Either way every age the SQL computes — now() minus a stored timestamp — grows by `hours`.
 * (The PGlite way is the cheaper: the shift has to turn the triggers off with
 * `session_replication_role`, and changing that setting discards every cached plan of the session,
 * so the commands after a shift planned all their statements again — about 10 ms a shift.
 * `ALTER TABLE … DISABLE TRIGGER` instead was measured slower still: 8 ms for the shift itself,
 * and it invalidates the plans of every table it touches.)
 */
export class AdvanceClockCommand extends LifecycleCommand {
  constructor(readonly hours: number) {
    super();
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const client = r.db as ScriptClient;
    if (client.advanceClock) client.advanceClock(this.hours);
    else await shiftTimestamps(r.db, this.hours);
    m.clock += this.hours;
    count('advance_clock', true);
  }
  toString(): string {
    return `advance_clock(+${this.hours} h)`;
  }
}

const shiftReady = new WeakSet<SqlClient>();

/**
 * `property_test.shift_timestamps(hours)`: one UPDATE per table with timestamps (the lifecycle's
 * data tables and storage.objects), generated from the catalog once per database, so a shift is
 * one round trip with cached plans.
 */
export async function shiftTimestamps(db: SqlClient, hours: number): Promise<void> {
  await prepareShiftTimestamps(db);
  await db.exec(`select property_test.shift_timestamps(${literal(hours)})`);
}

/**
 * Installs `property_test.shift_timestamps` (once per database). The harness calls it before the
 * runs: created inside a run's transaction, it would be rolled back with the run.
 *
 * `entity_events` is append-only and outlives the runs (the reset keeps it and moves the run's
 * watermark, `property_test.run`): only the events after the watermark — this run's — are shifted.
 * The earlier runs' events belong to entities deleted by the reset, no SQL function reads
 * `entity_events` (only the audit trigger writes it) and the checks read only this run's, so the
 * database as anything sees it ages exactly as before; rewriting every earlier run's events at
 * each shift made a shift slower as a run went on (and left their dead rows to the VACUUM). Without
 * the harness's watermark (an empty table: races.pg.test.ts), every event is shifted.
 */
export async function prepareShiftTimestamps(db: SqlClient): Promise<void> {
  if (!shiftReady.has(db)) {
    const { rows } = await db.query<{ sql: string }>(`
      select format('update %I.%I set %s%s', table_schema, table_name,
                    string_agg(format('%1$I = %1$I - make_interval(hours => p_hours)', column_name), ', '),
                    case when (table_schema, table_name) = ('upload_lifecycle', 'entity_events')
                         then ' where id > coalesce((select max(events_after) from property_test.run), 0)'
                         else '' end) as sql
      from information_schema.columns
      where data_type = 'timestamp with time zone'
        and ((table_schema = 'upload_lifecycle'
              and table_name not in ('transitions', 'entity_kinds', 'file_requirements'))
             or (table_schema = 'storage' and table_name = 'objects'))
        and (table_schema, table_name) in (select schemaname, tablename from pg_tables)
      group by table_schema, table_name`);
    await db.exec(`create schema if not exists property_test;
      create table if not exists property_test.run (events_after bigint not null);
      create or replace function property_test.shift_timestamps(p_hours integer) returns void
      language plpgsql as $$
      begin
        perform set_config('session_replication_role', 'replica', true);
        ${rows.map((r) => `${r.sql};`).join('\n        ')}
        perform set_config('session_replication_role', 'origin', true);
      end
      $$;`);
    shiftReady.add(db);
  }
}

export class SweepCommand extends LifecycleCommand {
  override check(m: Readonly<LifecycleModel>): boolean {
    return m.caps.sweep;
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    await applySweep(m, r);
    count('sweep', true);
  }
  toString(): string {
    return 'sweep_upload_lifecycle() as service_role';
  }
}

/** `sweep_state.orphan_grace` of 0031: an object without a file row is an orphan after an hour. */
const ORPHAN_GRACE_HOURS = 1;

/**
 * The sweep's model (DESIGN.md §2 "Failure and recovery", 0031), with each kind's TTLs as the
 * admins left them: drafts older than draft_ttl are deleted (reason draft_expired); `uploading`
 * rows idle past upload_ttl — no status change, file registration or object write within it —
 * take `fail` with reason `expired`; failed rows older than failed_ttl are deleted (reason
 * failed_expired). Objects without a file row, written at least the grace ago, are queued as
 * orphans (only queued: they stay until a worker removes them).
 */
async function applySweep(m: LifecycleModel, r: Real): Promise<void> {
  if (!r.sweep) throw new Error('sweep command ran with the sweep switched off');
  await r.sweep(r.db);
  const idle = (since: number, ttl: number) => m.clock - since >= ttl;
  for (const entity of m.entities) {
    const status = statusOfEntity(entity);
    const kind = entity.kind;
    if (status === 'draft' && idle(entity.statusSince, kind.draftTtl))
      deleteEntity(m, entity, 'draft_expired');
    else if (status === 'uploading' && idle(entity.statusSince, kind.uploadTtl)) {
      const files = filesOf(m, entity.id);
      const quiet =
        files.every((f) => idle(f.createdAt, kind.uploadTtl)) &&
        files.every((f) => {
          const o = m.objects.get(objectKey(f.bucketId, f.objectPath));
          return !o || idle(o.writtenAt, kind.uploadTtl);
        });
      if (quiet) applyEvent(m, entity, { type: 'fail', reason: 'expired' });
    } else if (status === 'failed' && idle(entity.statusSince, kind.failedTtl))
      deleteEntity(m, entity, 'failed_expired');
  }
  // Objects of file rows and of artifact rows are not orphans (sweep_orphans).
  const registered = new Set([
    ...m.files.map((f) => objectKey(f.bucketId, f.objectPath)),
    ...artifactKeys(m),
  ]);
  for (const [key, o] of m.objects)
    if (!registered.has(key) && !m.outbox.has(key) && idle(o.writtenAt, ORPHAN_GRACE_HOURS))
      m.outbox.set(key, 'orphan');
  sweepJobs(m);
}

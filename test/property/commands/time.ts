/** Time travel (timestamps shifted back) and the sweep. */
import { type SqlClient } from '../../support/db.js';
import {
  applyEvent,
  filesOf,
  objectKey,
  statusOfEntity,
  type LifecycleModel,
} from '../../support/model-lifecycle.js';
import { type Real, count, LifecycleCommand, deleteEntity } from './base.js';

/**
 * Time travel: every timestamp in the database moves `hours` into the past (as the superuser,
 * triggers off), so the rows age exactly as the model's clock says while `now()` stays real.
 */
export class AdvanceClockCommand extends LifecycleCommand {
  constructor(readonly hours: number) {
    super();
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    await shiftTimestamps(r.db, this.hours);
    m.clock += this.hours;
    count('advance_clock', true);
  }
  toString(): string {
    return `advance_clock(+${this.hours} h)`;
  }
}

const shiftSql = new WeakMap<SqlClient, string[]>();

export async function shiftTimestamps(db: SqlClient, hours: number): Promise<void> {
  let statements = shiftSql.get(db);
  if (!statements) {
    const { rows } = await db.query<{ sql: string }>(`
      select format('update %I.%I set %s', table_schema, table_name,
                    string_agg(format('%1$I = %1$I - make_interval(hours => $1)', column_name), ', ')) as sql
      from information_schema.columns
      where data_type = 'timestamp with time zone'
        and ((table_schema = 'upload_lifecycle'
              and table_name not in ('transitions', 'entity_kinds', 'file_requirements'))
             or (table_schema = 'storage' and table_name = 'objects'))
        and (table_schema, table_name) in (select schemaname, tablename from pg_tables)
      group by table_schema, table_name`);
    statements = rows.map((r) => r.sql);
    shiftSql.set(db, statements);
  }
  await db.transaction(async (tx) => {
    await tx.query(`set local session_replication_role = replica`);
    for (const statement of statements) await tx.query(statement, [hours]);
  });
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

/**
 * The sweep's model (DESIGN.md §2 "Failure and recovery", 0031): drafts older than draft_ttl are
 * deleted; `uploading` rows idle past upload_ttl — no status change, file registration or object
 * write within it — take `fail` with reason `expired`; failed rows older than failed_ttl are
 * deleted. Orphaned objects are only queued for the Storage API, so they stay in the model.
 * TTLs are the defaults of 0003 (1 day, 1 day, 7 days).
 */
async function applySweep(m: LifecycleModel, r: Real): Promise<void> {
  if (!r.sweep) throw new Error('sweep command ran with the sweep switched off');
  await r.sweep(r.db);
  const idle = (since: number, ttl: number) => m.clock - since >= ttl;
  for (const entity of m.entities) {
    const status = statusOfEntity(entity);
    if (status === 'draft' && idle(entity.statusSince, 24)) deleteEntity(m, entity);
    else if (status === 'uploading' && idle(entity.statusSince, 24)) {
      const files = filesOf(m, entity.id);
      const quiet =
        files.every((f) => idle(f.createdAt, 24)) &&
        files.every((f) => {
          const o = m.objects.get(objectKey(f.bucketId, f.objectPath));
          return !o || idle(o.writtenAt, 24);
        });
      if (quiet) applyEvent(m, entity, { type: 'fail', reason: 'expired' });
    } else if (status === 'failed' && idle(entity.statusSince, 24 * 7)) deleteEntity(m, entity);
  }
}

// pg_cron schedules the sweep (0033), on the real server (runs when DATABASE_URL is set).
// pg_cron lives in one database per cluster (`cron.database_name`, the database of DATABASE_URL in
// CI), so this file migrates that database itself rather than a fresh one from createPgDb.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../../src/db/migrate.js';
import { createUser, resetDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { DATABASE_URL, fromPgPool, hasServer } from '../support/pg.js';
import { seedEntities } from '../support/sweep.js';

const JOB = 'upload_lifecycle_sweep';

describe.skipIf(!hasServer)('the sweep schedule (pg_cron, real server)', () => {
  let pool: pg.Pool;
  let db: ReturnType<typeof fromPgPool>;
  let cronHere = false;
  let cronCanConnect = false;

  const job = async () =>
    (
      await db.query<{ jobid: number; schedule: string; command: string; database: string }>(
        `select jobid::integer as jobid, schedule, command, database from cron.job where jobname = $1`,
        [JOB],
      )
    ).rows;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
    db = fromPgPool(pool);
    const { rows } = await db.query<{ here: boolean; workers: string | null; host: string | null }>(
      `select current_database() = current_setting('cron.database_name', true) as here,
              current_setting('cron.use_background_workers', true) as workers,
              current_setting('cron.host', true) as host`,
    );
    cronHere = rows[0]!.here;
    // pg_cron runs jobs over libpq to cron.host unless it uses background workers; a TCP host
    // with password authentication (Debian's default pg_hba) makes every run "connection failed".
    cronCanConnect = rows[0]!.workers === 'on' || (rows[0]!.host ?? '').startsWith('/');
    if (!cronHere) return;
    await db.query(`create extension if not exists pg_cron`);
    await db.query(`select cron.unschedule(jobid) from cron.job where jobname = $1`, [JOB]);
    // pg_cron lives in this one database, which outlives each run (a developer's machine, CI on
    // the same machine): start it from nothing, as a fresh install would, so a function whose
    // definition changed since the last run (a new return type) is created, not replaced.
    await db.query(`drop schema if exists upload_lifecycle, storage, auth cascade`);
    await db.query(`do $$
      declare f regprocedure;
      begin
        for f in select p.oid::regprocedure from pg_proc p
                 where p.pronamespace = 'public'::regnamespace and p.prokind = 'f' loop
          execute format('drop function %s cascade', f);
        end loop;
      end $$`);
    const client = await pool.connect();
    try {
      await applyMigrations({ exec: (sql) => client.query(sql) }, { supabaseShim: true });
    } finally {
      client.release();
    }
  });

  afterAll(async () => {
    // Leave no job running in the shared test database.
    if (cronHere) await db.query(`select cron.unschedule(jobid) from cron.job where jobname = $1`, [JOB]);
    await pool?.end();
  });

  it('the migration schedules the sweep every 5 minutes where pg_cron is installed', async (ctx) => {
    if (!cronHere) ctx.skip();
    const { rows: db_ } = await db.query<{ name: string }>(`select current_database() as name`);
    expect(await job()).toMatchObject([
      { schedule: '*/5 * * * *', command: 'select public.sweep_upload_lifecycle()', database: db_[0]!.name },
    ]);
    const { rows } = await db.query<{ ok: boolean; detail: string }>(
      `select ok, detail from upload_lifecycle.verify_setup() where check_name = 'schedule: sweep_upload_lifecycle'`,
    );
    expect(rows).toMatchObject([{ ok: true }]);
  });

  it('applying the migrations again keeps a schedule changed since, and one job', async (ctx) => {
    if (!cronHere) ctx.skip();
    await db.query(`select upload_lifecycle.schedule_sweep('*/2 * * * *')`);
    const client = await pool.connect();
    try {
      await applyMigrations({ exec: (sql) => client.query(sql) }, { supabaseShim: true });
    } finally {
      client.release();
    }
    expect((await job()).map((j) => j.schedule)).toEqual(['*/2 * * * *']);
  });

  it('the job runs the sweep: an expired draft disappears', { timeout: 180_000 }, async (ctx) => {
    if (!cronHere || !cronCanConnect) ctx.skip();
    await resetDb(db);
    const owner = await createUser(db);
    const { kind } = await defineKind(db);
    await seedEntities(db, { kind, owners: [owner], status: 'draft', count: 3, ageHours: 48 });
    const { rows: started } = await db.query<{ at: Date }>(`select now() as at`);
    // pg_cron >= 1.5 runs every few seconds; 1.4 (Debian bookworm) only every minute.
    await db
      .query(`select upload_lifecycle.schedule_sweep('2 seconds')`)
      .catch(() => db.query(`select upload_lifecycle.schedule_sweep('* * * * *')`));
    const { jobid } = (await job())[0]!;

    // Await the run (bounded): pg_cron records it in cron.job_run_details.
    let run: { status: string; return_message: string | null } | undefined;
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      const { rows } = await db.query<{ status: string; return_message: string | null }>(
        `select status, return_message from cron.job_run_details
         where jobid = $1 and start_time >= $2 and status in ('succeeded', 'failed')
         order by start_time limit 1`,
        [jobid, started[0]!.at],
      );
      run = rows[0];
      if (run) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(run, 'pg_cron ran the job within the deadline').toBeDefined();
    expect(run).toMatchObject({ status: 'succeeded' });
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::integer as n from upload_lifecycle.entities`,
    );
    expect(rows[0]!.n).toBe(0);
  });
});

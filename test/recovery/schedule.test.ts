// 0033 on a database without pg_cron (PGlite): the migrations apply, nothing is scheduled, and
// verify_setup says to run the sweep from a worker instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb, type TestDb } from '../support/db.js';

let db: TestDb;
beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(async () => {
  await db.close();
});

describe('the sweep schedule where pg_cron does not exist', () => {
  it('schedules nothing and raises nothing', async () => {
    const { rows } = await db.query<{ cron: boolean; job: string | null }>(
      `select exists (select 1 from pg_extension where extname = 'pg_cron') as cron,
              upload_lifecycle.schedule_sweep()::text as job`,
    );
    expect(rows[0]).toEqual({ cron: false, job: null });
  });

  it('verify_setup reports that a worker must run the sweep', async () => {
    const { rows } = await db.query<{ ok: boolean; detail: string }>(
      `select ok, detail from upload_lifecycle.verify_setup() where check_name = 'schedule: sweep_upload_lifecycle'`,
    );
    expect(rows).toEqual([{ ok: true, detail: expect.stringMatching(/pg_cron is not installed/) }]);
  });

  it('keeps verify_setup free of findings about the recovery tables and functions', async () => {
    const { rows } = await db.query<{ check_name: string; detail: string }>(
      `select check_name, detail from upload_lifecycle.verify_setup()
       where not ok and (check_name ~ 'storage_deletions|sweep' or detail ~ 'storage_deletions|sweep')`,
    );
    expect(rows).toEqual([]);
  });
});

// The worker RPCs on a real PostgreSQL server (runs when DATABASE_URL is set): races across real
// connections that PGlite's single connection cannot show.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { as, createUser, resetDb, sqlstate, superuser, user } from '../support/db.js';
import { defineKind, statusOfRow } from '../support/fixtures.js';
import { claimJobs, completeJob, expireLease, finalizedEntity, jobRow, jobsOf } from '../support/jobs.js';
import { createPgDb, hasServer, type PgTestDb } from '../support/pg.js';
import { runSweep } from '../support/sweep.js';

describe.skipIf(!hasServer)('on PostgreSQL: processing jobs across connections', () => {
  let db: PgTestDb;
  let owner: string;
  let kind: string;
  beforeAll(async () => {
    db = await createPgDb({ poolSize: 12 });
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await resetDb(db);
    owner = await createUser(db);
    ({ kind } = await defineKind(db, {
      processors: [
        { processor: 'sha256', required: true },
        { processor: 'type', required: true },
      ],
    }));
  });

  it('eight workers claiming at once never get the same job, and together get every job', async () => {
    const entities: string[] = [];
    for (let i = 0; i < 10; i++) entities.push(await finalizedEntity(db, kind, owner));
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, w) => claimJobs(db, `w${w}`, { maxJobs: 4 })),
    );
    const ids = claims.flat().map((j) => j.job_id);
    expect(new Set(ids).size).toBe(ids.length);
    // 10 entities × 1 required file × 2 processors; 8 × 4 = 32 ≥ 20, so all are taken.
    expect(ids.length).toBe(20);
    for (const [w, jobs] of claims.entries())
      for (const job of jobs) expect((await jobRow(db, job.job_id)).worker_id).toBe(`w${w}`);
  });

  it('two workers completing the last two required jobs at once: the entity is completed exactly once', async () => {
    for (let round = 0; round < 5; round++) {
      const entityId = await finalizedEntity(db, kind, owner);
      const [a, b] = await claimJobs(db, 'w1', { maxJobs: 2 });
      await Promise.all([completeJob(db, a!.job_id, 'w1'), completeJob(db, b!.job_id, 'w1')]);
      expect(await statusOfRow(db, entityId)).toBe('completed');
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from upload_lifecycle.entity_events where entity_id = $1 and to_status = 'completed'`,
        [entityId],
      );
      expect(rows[0]!.n).toBe(1);
    }
  });

  it('a completion racing the sweep that expires its lease: exactly one of them wins', async () => {
    for (let round = 0; round < 5; round++) {
      const entityId = await finalizedEntity(db, kind, owner);
      const [job] = await claimJobs(db, 'w1', { maxJobs: 1, processors: ['sha256'] });
      const [completion, sweep] = await Promise.allSettled([
        completeJob(db, job!.job_id, 'w1'),
        runSweep(db, { hours: 1 }),
      ]);
      expect(sweep.status).toBe('fulfilled');
      const after = await jobRow(db, job!.job_id);
      if (completion.status === 'fulfilled') expect(after.status).toBe('complete');
      else {
        expect((completion.reason as { code?: string }).code).toBe('UL005');
        expect(after.status).toBe('pending');
      }
      expect(await statusOfRow(db, entityId)).toBe('processing');
    }
  });

  it('an expired lease’s completion is refused (UL005), and the job can be claimed again after the sweep', async () => {
    await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { maxJobs: 1, processors: ['sha256'] });
    await expireLease(db, job!.job_id);
    expect(await sqlstate(completeJob(db, job!.job_id, 'w1'))).toBe('UL005');
    await runSweep(db);
    const [again] = await claimJobs(db, 'w2', { maxJobs: 1, processors: ['sha256'] });
    expect(again).toMatchObject({ job_id: job!.job_id, attempt: 2 });
    await completeJob(db, job!.job_id, 'w2');
    expect((await jobRow(db, job!.job_id)).status).toBe('complete');
  });

  it('a retry while a worker runs a job: the old job is cancelled and its completion refused', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { maxJobs: 1, processors: ['sha256'] });
    await as(db, user(owner), (tx) => tx.query('select public.fail_upload($1)', [entityId]));
    await as(db, user(owner), (tx) => tx.query('select public.retry_upload($1)', [entityId]));
    expect(await sqlstate(completeJob(db, job!.job_id, 'w1'))).toBe('UL005');
    expect((await jobsOf(db, entityId)).map((j) => j.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('completion is refused while a required job is pending, even for the superuser (UL002)', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    expect(
      await sqlstate(
        as(db, superuser, (tx) =>
          tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [entityId]),
        ),
      ),
    ).toBe('UL002');
  });
});

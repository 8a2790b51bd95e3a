// The job machine in the database, and what finalize and the completion check make of jobs:
// every job status change outside job_transitions is refused for every role; finalize creates
// the jobs in its transaction; `completed` is refused while a required job is not complete, for
// service_role and the superuser too; from finalize on, the entity's files and objects are frozen.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  JOB_STATUSES,
  JOB_TRANSITIONS,
  isAllowedJobStatusChange,
  type JobStatus,
} from '../../src/machines/job.js';
import {
  as,
  createPgliteDb,
  createUser,
  resetDb,
  service,
  sqlstate,
  superuser,
  user,
  type TestDb,
} from '../support/db.js';
import { defineKind, registerFile, statusOfRow } from '../support/fixtures.js';
import { finalizedEntity, jobEventsOf, jobRow, jobsOf } from '../support/jobs.js';
import { rejection } from '../contract/support.js';

let db: TestDb;
let owner: string;
let kind: string;

beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetDb(db);
  owner = await createUser(db);
  ({ kind } = await defineKind(db, {
    processors: [
      { processor: 'sha256', required: true, maxAttempts: 3 },
      { processor: 'thumbnail', slot: 'photos', required: false },
    ],
  }));
});

/** Writes a job's status as the superuser (setup), with a lease when it becomes running. */
async function setJobStatus(jobId: string, status: JobStatus): Promise<void> {
  await as(db, superuser, (tx) =>
    tx.query(
      `update upload_lifecycle.jobs set status = $2::upload_lifecycle.job_status,
         lease_until = case when $2::text = 'running' then now() + interval '5 minutes' end,
         worker_id = case when $2::text = 'running' then 'setup' else worker_id end
       where id = $1`,
      [jobId, status],
    ),
  );
}

/** The shortest way through the job machine from pending to `status`. */
function jobPathTo(status: JobStatus): JobStatus[] {
  const queue: JobStatus[][] = [['pending']];
  while (queue.length > 0) {
    const path = queue.shift()!;
    const at = path[path.length - 1]!;
    if (at === status) return path.slice(1);
    for (const t of JOB_TRANSITIONS.filter((row) => row.from === at && !path.includes(row.to)))
      queue.push([...path, t.to]);
  }
  throw new Error(`job status ${status} is unreachable`);
}

/** The required sha256 job of a freshly finalized entity, walked to `status`. */
async function jobAt(status: JobStatus): Promise<{ entityId: string; jobId: string }> {
  const entityId = await finalizedEntity(db, kind, owner);
  const job = (await jobsOf(db, entityId)).find((j) => j.processor === 'sha256')!;
  for (const step of jobPathTo(status)) await setJobStatus(job.id, step);
  return { entityId, jobId: job.id };
}

const pairs = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as const));

describe.each([
  ['service_role', service],
  ['superuser', superuser],
] as const)('a direct UPDATE of a job status as %s', (_name, actor) => {
  it.each(pairs)(
    '%s → %s passes the job trigger exactly when the job machine allows it',
    async (from, to) => {
      const { jobId } = await jobAt(from);
      expect((await jobRow(db, jobId)).status).toBe(from);
      const allowed = from === to || isAllowedJobStatusChange(from, to);
      const before = await jobEventsOf(db, jobId);
      const update = as(db, actor, (tx) =>
        tx.query(
          `update upload_lifecycle.jobs set status = $2::upload_lifecycle.job_status,
           lease_until = case when $2::text = 'running' then now() + interval '5 minutes' else lease_until end,
           worker_id = coalesce(worker_id, 'w')
         where id = $1`,
          [jobId, to],
        ),
      );
      if (allowed) {
        await update;
        expect((await jobRow(db, jobId)).status).toBe(to);
        expect((await jobEventsOf(db, jobId)).length).toBe(before.length + (from === to ? 0 : 1));
      } else {
        await expect(update).rejects.toMatchObject({
          code: 'UL001',
          message: `forbidden job transition: ${from} → ${to}`,
        });
        expect((await jobRow(db, jobId)).status).toBe(from);
        expect(await jobEventsOf(db, jobId)).toEqual(before);
      }
    },
  );
});

describe('the job machine in the database', () => {
  it('a job is created pending only: inserting one in another status is UL001, even as the superuser', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const job = (await jobsOf(db, entityId))[0]!;
    const insert = as(db, superuser, (tx) =>
      tx.query(
        `insert into upload_lifecycle.jobs (entity_id, file_id, entity_attempt, processor, required, max_attempts, status)
         values ($1, $2, 1, 'other', true, 1, 'complete')`,
        [entityId, job.file_id],
      ),
    );
    expect(await sqlstate(insert)).toBe('UL001');
  });

  it('running → pending (lease expired) and failed → pending (retry) need attempts left (UL006)', async () => {
    const { jobId } = await jobAt('running');
    await as(db, superuser, (tx) =>
      tx.query(`update upload_lifecycle.jobs set max_attempts = 1 where id = $1`, [jobId]),
    );
    expect(await sqlstate(setJobStatus(jobId, 'pending'))).toBe('UL006');
    await setJobStatus(jobId, 'failed');
    expect(await sqlstate(setJobStatus(jobId, 'pending'))).toBe('UL006');
    await setJobStatus(jobId, 'dead');
    expect((await jobRow(db, jobId)).status).toBe('dead');
  });

  it('claim counts a run; requeue resets the runs', async () => {
    const { jobId } = await jobAt('running');
    expect((await jobRow(db, jobId)).attempt).toBe(1);
    await setJobStatus(jobId, 'failed');
    await setJobStatus(jobId, 'dead');
    await setJobStatus(jobId, 'pending');
    expect((await jobRow(db, jobId)).attempt).toBe(0);
  });

  it('the identity of a job never changes (UL005)', async () => {
    const { jobId } = await jobAt('pending');
    const update = as(db, superuser, (tx) =>
      tx.query(`update upload_lifecycle.jobs set processor = 'type' where id = $1`, [jobId]),
    );
    expect(await sqlstate(update)).toBe('UL005');
  });

  it('a signed-in user cannot write jobs at all (42501)', async () => {
    const { jobId } = await jobAt('pending');
    const update = as(db, user(owner), (tx) =>
      tx.query(`update upload_lifecycle.jobs set status = 'running' where id = $1`, [jobId]),
    );
    expect(await sqlstate(update)).toBe('42501');
  });
});

describe('finalize creates the jobs of the attempt', () => {
  it('one job per file × processor that applies to its slot; a required one makes the entity processing', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    expect(await statusOfRow(db, entityId)).toBe('processing');
    const jobs = await jobsOf(db, entityId);
    // The default kind's required files: one document (photos has min 0): sha256 only.
    expect(jobs.map((j) => [j.processor, j.required, j.status, j.entity_attempt])).toEqual([
      ['sha256', true, 'pending', 1],
    ]);
    expect(await jobEventsOf(db, jobs[0]!.id)).toEqual([
      { event: 'create', from_status: null, to_status: 'pending' },
    ]);
  });

  it('a kind with optional processors only completes at finalize, its jobs still pending', async () => {
    ({ kind } = await defineKind(db, {
      kind: 'optional_only',
      processors: [{ processor: 'thumbnail', required: false }],
    }));
    const entityId = await finalizedEntity(db, kind, owner);
    expect(await statusOfRow(db, entityId)).toBe('completed');
    expect((await jobsOf(db, entityId)).map((j) => [j.processor, j.status])).toEqual([
      ['thumbnail', 'pending'],
    ]);
  });

  it('a kind without processors completes at finalize as before, with no jobs', async () => {
    ({ kind } = await defineKind(db, { kind: 'plain' }));
    const entityId = await finalizedEntity(db, kind, owner);
    expect(await statusOfRow(db, entityId)).toBe('completed');
    expect(await jobsOf(db, entityId)).toEqual([]);
  });

  it('finalize again while processing answers the state and creates nothing twice', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const again = await as(db, user(owner), (tx) =>
      tx.query<{ s: { status: string } }>('select public.finalize_upload($1) as s', [entityId]),
    );
    expect(again.rows[0]!.s.status).toBe('processing');
    expect(await jobsOf(db, entityId)).toHaveLength(1);
  });
});

describe('the deferred completion check and required jobs', () => {
  it.each([
    ['service_role', service],
    ['superuser', superuser],
  ] as const)(
    'processing → completed is refused by %s while a required job is pending (UL002)',
    async (_n, actor) => {
      const entityId = await finalizedEntity(db, kind, owner);
      const error = await rejection(
        as(db, actor, (tx) =>
          tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [entityId]),
        ),
      );
      expect(error.code).toBe('UL002');
      expect(error.detail).toMatch(/required processor sha256 is pending/);
      expect(await statusOfRow(db, entityId)).toBe('processing');
    },
  );

  it('uploading → completed directly (no finalize, so no jobs) is refused for a kind with a required processor', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    // Drop the entity back to a fresh attempt: fail, retry, and walk the new attempt by hand.
    await as(db, service, (tx) =>
      tx.query(`update upload_lifecycle.entities set status = 'failed' where id = $1`, [entityId]),
    );
    await as(db, user(owner), (tx) => tx.query('select public.retry_upload($1)', [entityId]));
    await as(db, service, (tx) =>
      tx.query(`update upload_lifecycle.entity_files set verified_at = now() where entity_id = $1`, [
        entityId,
      ]),
    );
    const error = await rejection(
      as(db, superuser, (tx) =>
        tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [entityId]),
      ),
    );
    expect(error.code).toBe('UL002');
    expect(error.detail).toMatch(/required processor sha256 has no job/);
  });

  it('processing → completed passes once every required job of the attempt is complete', async () => {
    const { entityId, jobId } = await jobAt('complete');
    expect((await jobRow(db, jobId)).status).toBe('complete');
    await as(db, service, (tx) =>
      tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [entityId]),
    );
    expect(await statusOfRow(db, entityId)).toBe('completed');
  });
});

describe('from finalize on, the entity’s files are frozen', () => {
  const objectsOf = (entityId: string) =>
    `from upload_lifecycle.entity_files f where f.entity_id = '${entityId}' and o.bucket_id = f.bucket_id and o.name = f.object_path`;

  it.each([
    ['service_role', service],
    ['superuser', superuser],
  ] as const)(
    '%s can neither replace nor delete a processing entity’s objects (UL005)',
    async (_n, actor) => {
      const entityId = await finalizedEntity(db, kind, owner);
      const replace = as(db, actor, (tx) =>
        tx.query(
          `update storage.objects o set metadata = jsonb_set(o.metadata, '{size}', '1') ${objectsOf(entityId)}`,
        ),
      );
      expect(await sqlstate(replace)).toBe('UL005');
      const remove = as(db, actor, (tx) =>
        tx.exec(`select set_config('storage.allow_delete_query', 'true', true);
               delete from storage.objects o using upload_lifecycle.entity_files f
               where f.entity_id = '${entityId}' and o.bucket_id = f.bucket_id and o.name = f.object_path;`),
      );
      expect(await sqlstate(remove)).toBe('UL005');
    },
  );

  it('no file can be registered, removed or changed while processing (UL005)', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    expect(await sqlstate(registerFile(db, entityId, { slot: 'photos', mime: 'image/png' }))).toBe('UL005');
    const remove = as(db, superuser, (tx) =>
      tx.query(`delete from upload_lifecycle.entity_files where entity_id = $1`, [entityId]),
    );
    expect(await sqlstate(remove)).toBe('UL005');
    const file = (await jobsOf(db, entityId))[0]!.file_id;
    const viaRpc = as(db, user(owner), (tx) =>
      tx.query('select public.remove_upload_file($1, $2)', [entityId, file]),
    );
    expect(await sqlstate(viaRpc)).toBe('UL005');
  });
});

// The worker RPCs (claim, extend, complete, fail, requeue), what the owner sees of jobs, RLS on
// the job tables, and the sweep's job steps — on PGlite. Races across connections are in
// job-rpcs.pg.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  anon,
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
import { defineKind, statusOfRow } from '../support/fixtures.js';
import {
  claimJobs,
  completeJob,
  expireLease,
  extendLeases,
  failJob,
  finalizedEntity,
  jobEventsOf,
  jobRow,
  jobsOf,
} from '../support/jobs.js';
import { runSweep } from '../support/sweep.js';
import { rejection, rpc } from './support.js';

let db: TestDb;
let owner: string;
let kind: string;
let bucketId: string;

beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetDb(db);
  owner = await createUser(db);
  ({ kind, bucketId } = await defineKind(db, {
    processors: [
      { processor: 'sha256', required: true, maxAttempts: 2 },
      { processor: 'type', slot: 'document', required: true, maxAttempts: 2 },
      { processor: 'thumbnail', required: false, maxAttempts: 1 },
    ],
  }));
});

/** Stores a derived object as the worker would (service key: no storage policy applies). */
async function storeArtifact(
  entityId: string,
  name: string,
  size: number,
  mimetype: string,
): Promise<string> {
  const path = `${owner}/${entityId}/${name}`;
  await as(db, superuser, (tx) =>
    tx.query(`insert into storage.objects (bucket_id, name, owner_id, metadata) values ($1, $2, null, $3)`, [
      bucketId,
      path,
      JSON.stringify({ size, mimetype }),
    ]),
  );
  return path;
}

const byProcessor = <T extends { processor: string }>(rows: T[], processor: string) =>
  rows.find((r) => r.processor === processor)!;

describe('claim_upload_jobs', () => {
  it('hands a worker what it needs, leased, and never the same job twice', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const first = await claimJobs(db, 'w1', { maxJobs: 2, processors: ['sha256', 'type'] });
    expect(first.map((j) => j.processor).sort()).toEqual(['sha256', 'type']);
    const job = byProcessor(first, 'sha256');
    const file = (await rpc(db, user(owner), 'get_upload_state', { entity_id: entityId })).files[0]!;
    expect(job).toMatchObject({
      entity_id: entityId,
      file_id: file.file_id,
      bucket_id: file.bucket_id,
      object_path: file.object_path,
      declared_mime: file.declared_mime,
      declared_sha256: null,
      required: true,
      attempt: 1,
      max_attempts: 2,
      entity_attempt: 1,
    });
    expect(Number(job.declared_size)).toBe(file.declared_size);
    expect((await jobRow(db, job.job_id)).status).toBe('running');
    // Only the optional thumbnail is left.
    expect((await claimJobs(db, 'w2')).map((j) => j.processor)).toEqual(['thumbnail']);
    expect(await claimJobs(db, 'w3')).toEqual([]);
  });

  it('is for workers only: a signed-in user or anon gets 42501', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    expect(await sqlstate(claimJobs(db, 'w', { actor: user(owner) }))).toBe('42501');
    expect(await sqlstate(claimJobs(db, 'w', { actor: anon }))).toBe('42501');
    expect((await jobsOf(db, entityId)).map((j) => j.status)).toEqual(['pending', 'pending', 'pending']);
  });

  it('refuses a bad lease or batch (UL004)', async () => {
    expect(await sqlstate(claimJobs(db, 'w', { leaseSeconds: 0 }))).toBe('UL004');
    expect(await sqlstate(claimJobs(db, 'w', { maxJobs: 0 }))).toBe('UL004');
    expect(await sqlstate(claimJobs(db, '', {}))).toBe('UL004');
  });
});

describe('complete_upload_job', () => {
  it('the last required job completes the entity — decided by the database; optional jobs do not hold it', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const jobs = await claimJobs(db, 'w1', { processors: ['sha256', 'type'] });
    const first = await completeJob(db, byProcessor(jobs, 'sha256').job_id, 'w1', { sha256: 'ok' });
    expect(first).toMatchObject({ status: 'complete', entity_status: 'processing' });
    const last = await completeJob(db, byProcessor(jobs, 'type').job_id, 'w1', { mime: 'application/pdf' });
    expect(last).toMatchObject({ status: 'complete', entity_status: 'completed' });
    expect(await statusOfRow(db, entityId)).toBe('completed');
    expect(byProcessor(await jobsOf(db, entityId), 'thumbnail').status).toBe('pending');
    expect(await jobEventsOf(db, byProcessor(jobs, 'sha256').job_id)).toEqual([
      { event: 'create', from_status: null, to_status: 'pending' },
      { event: 'claim', from_status: 'pending', to_status: 'running' },
      { event: 'complete', from_status: 'running', to_status: 'complete' },
    ]);
  });

  it('is refused when the lease expired, or for another worker (UL005); the job stays running', async () => {
    await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { maxJobs: 1, processors: ['sha256'] });
    const other = await rejection(completeJob(db, job!.job_id, 'w2'));
    expect(other).toMatchObject({ code: 'UL005', message: expect.stringMatching(/held by another worker/) });
    await expireLease(db, job!.job_id);
    const late = await rejection(completeJob(db, job!.job_id, 'w1'));
    expect(late).toMatchObject({ code: 'UL005', message: expect.stringMatching(/lease of job .* expired/) });
    expect((await jobRow(db, job!.job_id)).status).toBe('running');
  });

  it('the same worker completing twice with the same result gets the same answer; another result is refused', async () => {
    await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { maxJobs: 1, processors: ['sha256'] });
    const once = await completeJob(db, job!.job_id, 'w1', { sha256: 'x' });
    expect(await completeJob(db, job!.job_id, 'w1', { sha256: 'x' })).toEqual(once);
    expect(await sqlstate(completeJob(db, job!.job_id, 'w1', { sha256: 'y' }))).toBe('UL005');
  });

  it('records artifacts only when Storage holds them as described (UL004 otherwise), and the owner sees them', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['thumbnail'] });
    const path = await storeArtifact(entityId, 'thumb-small.webp', 120, 'image/webp');
    const missing = await rejection(
      completeJob(db, job!.job_id, 'w1', {}, [
        {
          variant: 'small',
          object_path: `${owner}/${entityId}/nothing`,
          size: 1,
          content_type: 'image/webp',
        },
      ]),
    );
    expect(missing).toMatchObject({
      code: 'UL004',
      message: expect.stringMatching(/artifact small: no object/),
    });
    const wrongSize = await rejection(
      completeJob(db, job!.job_id, 'w1', {}, [
        { variant: 'small', object_path: path, size: 121, content_type: 'image/webp' },
      ]),
    );
    expect(wrongSize.code).toBe('UL004');
    const elsewhere = await rejection(
      completeJob(db, job!.job_id, 'w1', {}, [
        { variant: 'small', object_path: 'someone/else/x', size: 120, content_type: 'image/webp' },
      ]),
    );
    expect(elsewhere.code).toBe('UL004');
    // Nothing of the refused calls stayed.
    expect((await jobRow(db, job!.job_id)).status).toBe('running');

    const done = await completeJob(db, job!.job_id, 'w1', { width: 64 }, [
      { variant: 'small', object_path: path, size: 120, content_type: 'image/webp' },
    ]);
    expect(done.artifacts).toEqual([
      {
        variant: 'small',
        bucket_id: bucketId,
        object_path: path,
        size: 120,
        content_type: 'image/webp',
        sha256: null,
      },
    ]);
    const state = await rpc<{ jobs: { processor: string; status: string; artifacts: unknown[] }[] }>(
      db,
      user(owner),
      'get_upload_state',
      { entity_id: entityId },
    );
    expect(byProcessor(state.jobs, 'thumbnail')).toMatchObject({
      status: 'complete',
      artifacts: done.artifacts,
    });
  });
});

describe('fail_upload_job', () => {
  it('a retryable failure with runs left goes back to pending after a backoff, its error kept', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['sha256'] });
    const state = await failJob(db, job!.job_id, 'w1', { message: 'storage timeout' }, true);
    expect(state).toMatchObject({ status: 'pending', attempt: 1, entity_status: 'processing' });
    const row = await jobRow(db, job!.job_id);
    expect(row.last_error).toEqual({ message: 'storage timeout' });
    // Not due yet: the backoff holds it back.
    expect(await claimJobs(db, 'w2', { processors: ['sha256'] })).toEqual([]);
    expect(await statusOfRow(db, entityId)).toBe('processing');
  });

  it('a non-retryable failure of a required job: dead at once, a dead letter, the entity failed naming file and processor', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['sha256'] });
    const state = await failJob(db, job!.job_id, 'w1', { message: 'checksum mismatch' }, false);
    expect(state).toMatchObject({ status: 'dead', entity_status: 'failed' });
    const entity = await rpc(db, user(owner), 'get_upload_state', { entity_id: entityId });
    expect(entity.failure_reason).toBe(
      `processing failed: file ${job!.file_id} (${entity.files[0]!.original_name}), processor sha256: checksum mismatch`,
    );
    const { rows } = await db.query<{ job: { id: string; status: string }; events: { event: string }[] }>(
      `select job, events from upload_lifecycle.failed_jobs where job_id = $1`,
      [job!.job_id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.job).toMatchObject({ id: job!.job_id, status: 'dead' });
    expect(rows[0]!.events.map((e) => e.event)).toEqual(['create', 'claim', 'fail', 'bury']);
    // The other unfinished jobs of the attempt are cancelled; the dead one stays dead.
    expect((await jobsOf(db, entityId)).map((j) => [j.processor, j.status]).sort()).toEqual([
      ['sha256', 'dead'],
      ['thumbnail', 'cancelled'],
      ['type', 'cancelled'],
    ]);
  });

  it('a retryable failure out of runs is buried too', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    let [job] = await claimJobs(db, 'w1', { processors: ['sha256'] });
    await failJob(db, job!.job_id, 'w1', { message: 'flaky' }, true);
    await as(db, superuser, (tx) =>
      tx.query(`update upload_lifecycle.jobs set run_after = now() where id = $1`, [job!.job_id]),
    );
    [job] = await claimJobs(db, 'w1', { processors: ['sha256'] });
    expect(job!.attempt).toBe(2);
    expect((await failJob(db, job!.job_id, 'w1', { message: 'flaky' }, true)).status).toBe('dead');
    expect(await statusOfRow(db, entityId)).toBe('failed');
  });
});

describe('retry after a processing failure', () => {
  it('cancels the old attempt’s jobs; the new finalize creates new ones, and a late completion of an old job is refused', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const jobs = await claimJobs(db, 'w1');
    await failJob(db, byProcessor(jobs, 'sha256').job_id, 'w1', { message: 'mismatch' }, false);
    await rpc(db, user(owner), 'retry_upload', { entity_id: entityId });
    const old = await jobsOf(db, entityId);
    expect(old.map((j) => j.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(await sqlstate(completeJob(db, byProcessor(jobs, 'type').job_id, 'w1'))).toBe('UL005');

    // Attempt 2: the files are the same rows; verify and finalize again.
    await rpc(db, user(owner), 'finalize_upload', { entity_id: entityId });
    const current = (await jobsOf(db, entityId)).filter((j) => j.entity_attempt === 2);
    expect(current.map((j) => [j.processor, j.status]).sort()).toEqual([
      ['sha256', 'pending'],
      ['thumbnail', 'pending'],
      ['type', 'pending'],
    ]);
    const state = await rpc<{ jobs: unknown[] }>(db, user(owner), 'get_upload_state', {
      entity_id: entityId,
    });
    expect(state.jobs).toHaveLength(3);
  });
});

describe('extend_upload_job_leases', () => {
  it('extends what the worker still holds and leaves out the rest', async () => {
    await finalizedEntity(db, kind, owner);
    const jobs = await claimJobs(db, 'w1', { processors: ['sha256', 'type'], leaseSeconds: 60 });
    const [a, b] = jobs.map((j) => j.job_id) as [string, string];
    await expireLease(db, b);
    const before = (await jobRow(db, a)).lease_until!;
    expect(await extendLeases(db, 'w1', [a, b], 600)).toEqual([a]);
    expect(new Date((await jobRow(db, a)).lease_until!).getTime()).toBeGreaterThan(
      new Date(before).getTime(),
    );
    expect(await extendLeases(db, 'w2', [a], 600)).toEqual([]);
  });
});

describe('the sweep and jobs', () => {
  it('re-queues a running job whose lease expired (a crashed worker), counting the run', async () => {
    await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['sha256'], leaseSeconds: 60 });
    expect((await runSweep(db, { hours: 0 })).job_leases_expired).toBe(0);
    const counts = await runSweep(db, { hours: 1 });
    expect(counts.job_leases_expired).toBe(1);
    const row = await jobRow(db, job!.job_id);
    expect(row).toMatchObject({ status: 'pending', attempt: 1, lease_until: null });
    expect((await jobEventsOf(db, job!.job_id)).at(-1)).toEqual({
      event: 'lease_expired',
      from_status: 'running',
      to_status: 'pending',
    });
    // The crashed worker's late completion is refused.
    expect(await sqlstate(completeJob(db, job!.job_id, 'w1'))).toBe('UL005');
  });

  it('buries an expired job out of runs and fails its entity', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['sha256'] });
    await as(db, superuser, (tx) =>
      tx.query(`update upload_lifecycle.jobs set max_attempts = 1 where id = $1`, [job!.job_id]),
    );
    await runSweep(db, { hours: 1 });
    expect((await jobRow(db, job!.job_id)).status).toBe('dead');
    expect(await statusOfRow(db, entityId)).toBe('failed');
  });

  it('fails a processing entity whose required job was buried by another path', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const job = byProcessor(await jobsOf(db, entityId), 'type');
    await as(db, superuser, (tx) =>
      tx.exec(`update upload_lifecycle.jobs set status = 'running', lease_until = now() + interval '1 minute' where id = '${job.id}';
               update upload_lifecycle.jobs set status = 'failed' where id = '${job.id}';
               update upload_lifecycle.jobs set status = 'dead' where id = '${job.id}';`),
    );
    expect(await statusOfRow(db, entityId)).toBe('processing');
    expect((await runSweep(db)).processing_failed).toBe(1);
    expect(await statusOfRow(db, entityId)).toBe('failed');
  });

  it('prunes job events and dead letters past their retention, and nothing younger', async () => {
    // Keep the failed entity (and so its dead letters) past the 30-day retention.
    await db.query(
      `update upload_lifecycle.entity_kinds set failed_ttl = interval '90 days' where kind = $1`,
      [kind],
    );
    await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['sha256'] });
    await failJob(db, job!.job_id, 'w1', { message: 'bad' }, false);
    const young = await runSweep(db, { hours: 24 });
    expect(young).toMatchObject({ job_events_pruned: 0, dead_letters_pruned: 0 });
    const old = await runSweep(db, { hours: 24 * 31 });
    expect(old.job_events_pruned).toBeGreaterThan(0);
    expect(old.dead_letters_pruned).toBe(1);
    expect(await jobEventsOf(db, job!.job_id)).toEqual([]);
  });

  it('job events are append-only outside the sweep (UL005), even for the superuser', async () => {
    await finalizedEntity(db, kind, owner);
    expect(
      await sqlstate(as(db, superuser, (tx) => tx.query('delete from upload_lifecycle.job_events'))),
    ).toBe('UL005');
    expect(
      await sqlstate(
        as(db, superuser, (tx) => tx.query(`update upload_lifecycle.job_events set event = 'x'`)),
      ),
    ).toBe('UL005');
  });
});

describe('artifact objects and the deletion outbox', () => {
  const queued = async (path: string) =>
    (
      await db.query<{ reason: string }>(
        `select reason from upload_lifecycle.storage_deletions where object_path = $1 and done_at is null`,
        [path],
      )
    ).rows.map((r) => r.reason);

  it('the orphan sweep spares a recorded artifact; deleting its upload queues its object', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const [thumb] = await claimJobs(db, 'w1', { processors: ['thumbnail'] });
    const path = await storeArtifact(entityId, 'thumb.webp', 10, 'image/webp');
    await completeJob(db, thumb!.job_id, 'w1', {}, [
      { variant: 'small', object_path: path, size: 10, content_type: 'image/webp' },
    ]);
    const stray = await storeArtifact(entityId, 'never-recorded.webp', 10, 'image/webp');
    await runSweep(db, { hours: 2 });
    expect(await queued(path)).toEqual([]);
    expect(await queued(stray)).toEqual(['orphan']);

    await rpc(db, user(owner), 'delete_upload', { entity_id: entityId });
    expect(await queued(path)).toEqual(['entity_deleted']);
  });
});

describe('requeue_failed_upload_job (dead letters)', () => {
  const letterOf = async (jobId: string) =>
    (await db.query<{ id: string }>(`select id from upload_lifecycle.failed_jobs where job_id = $1`, [jobId]))
      .rows[0]!.id;

  it('an optional job of a completed entity runs again with fresh runs', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    for (const job of await claimJobs(db, 'w1', { processors: ['sha256', 'type'] }))
      await completeJob(db, job.job_id, 'w1');
    const [thumb] = await claimJobs(db, 'w1', { processors: ['thumbnail'] });
    await failJob(db, thumb!.job_id, 'w1', { message: 'sharp missing' }, true);
    expect((await jobRow(db, thumb!.job_id)).status).toBe('dead'); // max_attempts 1
    expect(await statusOfRow(db, entityId)).toBe('completed');

    const letter = await letterOf(thumb!.job_id);
    const state = await rpc<{ status: string; attempt: number }>(db, service, 'requeue_failed_upload_job', {
      failed_job_id: letter,
    });
    expect(state).toMatchObject({ status: 'pending', attempt: 0 });
    expect(await rpc(db, service, 'requeue_failed_upload_job', { failed_job_id: letter })).toEqual(state);
    expect((await claimJobs(db, 'w2', { processors: ['thumbnail'] })).map((j) => j.job_id)).toEqual([
      thumb!.job_id,
    ]);
  });

  it('a required job of a failed entity is not requeued (UL005): retry the upload instead', async () => {
    await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['sha256'] });
    await failJob(db, job!.job_id, 'w1', { message: 'mismatch' }, false);
    const error = await rejection(
      rpc(db, service, 'requeue_failed_upload_job', { failed_job_id: await letterOf(job!.job_id) }),
    );
    expect(error).toMatchObject({ code: 'UL005', hint: expect.stringMatching(/retry_upload/) });
  });

  it('is for service_role only (42501 for a signed-in user)', async () => {
    await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['thumbnail'] });
    await failJob(db, job!.job_id, 'w1', { message: 'x' }, false);
    const letter = await letterOf(job!.job_id);
    expect(await sqlstate(rpc(db, user(owner), 'requeue_failed_upload_job', { failed_job_id: letter }))).toBe(
      '42501',
    );
  });
});

describe('row level security on the job tables', () => {
  const tables = ['jobs', 'job_events', 'artifacts', 'failed_jobs'] as const;

  it('the owner reads the rows of their own uploads; another user reads none', async () => {
    const entityId = await finalizedEntity(db, kind, owner);
    const [job] = await claimJobs(db, 'w1', { processors: ['thumbnail'] });
    const path = await storeArtifact(entityId, 't.webp', 10, 'image/webp');
    await completeJob(db, job!.job_id, 'w1', {}, [
      { variant: 'small', object_path: path, size: 10, content_type: 'image/webp' },
    ]);
    const [sha] = await claimJobs(db, 'w1', { processors: ['sha256'] });
    await failJob(db, sha!.job_id, 'w1', { message: 'bad' }, false);

    const bob = await createUser(db);
    for (const table of tables) {
      const count = async (who: string) =>
        (
          await as(db, user(who), (tx) =>
            tx.query<{ n: number }>(`select count(*)::int as n from upload_lifecycle.${table}`),
          )
        ).rows[0]!.n;
      expect(await count(owner), table).toBeGreaterThan(0);
      expect(await count(bob), table).toBe(0);
      expect(
        await sqlstate(as(db, anon, (tx) => tx.query(`select * from upload_lifecycle.${table}`))),
        table,
      ).toBe('42501');
    }
  });
});

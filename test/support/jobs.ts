/**
 * Processing jobs in tests: a finalized entity with its jobs, and the worker RPCs called the way a
 * worker calls them (service_role, named arguments).
 */
import { as, service, superuser, user, type Actor, type SqlClient } from './db.js';
import { entityAt, satisfyRequirements } from './lifecycle-paths.js';
import type { JobStatus } from '../../src/machines/job.js';
import type { UploadStatus } from '../../src/machines/lifecycle.js';

export interface ClaimedJob {
  job_id: string;
  processor: string;
  entity_id: string;
  file_id: string;
  kind: string;
  slot: string;
  bucket_id: string;
  object_path: string;
  declared_size: string | number;
  declared_mime: string;
  declared_sha256: string | null;
  required: boolean;
  attempt: number;
  max_attempts: number;
  entity_attempt: number;
  lease_until: string;
}

export interface JobRow {
  id: string;
  entity_id: string;
  file_id: string;
  processor: string;
  required: boolean;
  status: JobStatus;
  attempt: number;
  max_attempts: number;
  entity_attempt: number;
  worker_id: string | null;
  lease_until: string | null;
  last_error: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
}

export interface JobStateJson {
  job_id: string;
  status: JobStatus;
  attempt: number;
  entity_status: UploadStatus;
  last_error: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  artifacts: { variant: string; object_path: string; size: number; content_type: string }[];
}

/** An entity of `kind` walked to uploading with its files, then finalized by its owner. */
export async function finalizedEntity(db: SqlClient, kind: string, ownerId: string): Promise<string> {
  const id = await entityAt(db, kind, ownerId, 'uploading');
  await satisfyRequirements(db, id, ownerId);
  await as(db, user(ownerId), (tx) => tx.query('select public.finalize_upload($1)', [id]));
  return id;
}

/** The jobs of an entity (all attempts), oldest first. */
export async function jobsOf(db: SqlClient, entityId: string): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `select * from upload_lifecycle.jobs where entity_id = $1 order by entity_attempt, created_at, processor, id`,
    [entityId],
  );
  return rows;
}

export async function jobRow(db: SqlClient, jobId: string): Promise<JobRow> {
  const { rows } = await db.query<JobRow>(`select * from upload_lifecycle.jobs where id = $1`, [jobId]);
  return rows[0]!;
}

/** `claim_upload_jobs` as `actor` (service_role by default). */
export async function claimJobs(
  db: SqlClient,
  workerId: string,
  options: { maxJobs?: number; leaseSeconds?: number; processors?: string[] | null; actor?: Actor } = {},
): Promise<ClaimedJob[]> {
  const { rows } = await as(db, options.actor ?? service, (tx) =>
    tx.query<ClaimedJob>(
      `select * from public.claim_upload_jobs(worker_id => $1, max_jobs => $2, lease_seconds => $3, processors => $4::text[])`,
      [workerId, options.maxJobs ?? 10, options.leaseSeconds ?? 300, options.processors ?? null],
    ),
  );
  return rows;
}

export async function extendLeases(
  db: SqlClient,
  workerId: string,
  jobIds: string[],
  leaseSeconds = 300,
): Promise<string[]> {
  const { rows } = await as(db, service, (tx) =>
    tx.query<{ held: string[] }>(
      `select public.extend_upload_job_leases(worker_id => $1, job_ids => $2::uuid[], lease_seconds => $3) as held`,
      [workerId, jobIds, leaseSeconds],
    ),
  );
  return rows[0]!.held;
}

export async function completeJob(
  db: SqlClient,
  jobId: string,
  workerId: string,
  result: Record<string, unknown> = {},
  artifacts: unknown[] = [],
): Promise<JobStateJson> {
  const { rows } = await as(db, service, (tx) =>
    tx.query<{ state: JobStateJson }>(
      `select public.complete_upload_job(job_id => $1, worker_id => $2, result => $3::jsonb, artifacts => $4::jsonb) as state`,
      [jobId, workerId, JSON.stringify(result), JSON.stringify(artifacts)],
    ),
  );
  return rows[0]!.state;
}

export async function failJob(
  db: SqlClient,
  jobId: string,
  workerId: string,
  error: Record<string, unknown>,
  retryable: boolean,
): Promise<JobStateJson> {
  const { rows } = await as(db, service, (tx) =>
    tx.query<{ state: JobStateJson }>(
      `select public.fail_upload_job(job_id => $1, worker_id => $2, error => $3::jsonb, retryable => $4) as state`,
      [jobId, workerId, JSON.stringify(error), retryable],
    ),
  );
  return rows[0]!.state;
}

/** Moves a running job's lease into the past (time travel for the lease; setup, as the superuser). */
export async function expireLease(db: SqlClient, jobId: string): Promise<void> {
  await as(db, superuser, (tx) =>
    tx.query(
      `update upload_lifecycle.jobs set lease_until = now() - interval '1 second' where id = $1 and status = 'running'`,
      [jobId],
    ),
  );
}

export async function jobEventsOf(db: SqlClient, jobId: string) {
  const { rows } = await db.query<{ event: string; from_status: JobStatus | null; to_status: JobStatus }>(
    `select event, from_status, to_status from upload_lifecycle.job_events where job_id = $1 order by id`,
    [jobId],
  );
  return rows;
}

/**
 * The processing jobs in the property model: which jobs finalize creates (file × processor of the
 * kind that applies to the file's slot), what the lifecycle guards ask of them, and what the
 * database's triggers do to them when an attempt ends. Statuses move only along the job machine
 * (src/machines/job.ts), checked by {@link moveJob}.
 */
import { isAllowedJobStatusChange, type JobStatus } from '../../src/machines/job.js';
import type { SqlClient } from './db.js';
import {
  applyEvent,
  statusOfEntity,
  type LifecycleModel,
  type ModelEntity,
  type ModelProcessor,
} from './model-lifecycle.js';

export function entityOf(m: LifecycleModel, job: ModelJob): ModelEntity {
  return m.entities.find((e) => e.id === job.entityId)!;
}

export interface ModelJob {
  entityId: string;
  fileId: string;
  processor: string;
  required: boolean;
  maxAttempts: number;
  /** The entity attempt the job belongs to. */
  entityAttempt: number;
  status: JobStatus;
  /** Runs started (claims). */
  attempt: number;
  /** The worker holding it (running), or that last held it. */
  worker?: string;
  /** Model clock of the claim: the lease (minutes) is over once the clock moves. */
  claimedAt?: number;
  /** Model clock of a retry's backoff: due for sure once the clock moves past it. */
  backoffAt?: number;
  /** Object keys (bucket/path) of the artifacts its completion recorded. */
  artifacts?: string[];
  /** Its newest dead letter (`failed_jobs`): buried at model clock `at`, requeued or not. */
  letter?: { at: number; requeued: boolean };
}

/** `sweep_state.dead_letter_retention` (0039): the sweep prunes dead letters after 30 days. */
export const DEAD_LETTER_RETENTION_HOURS = 30 * 24;

/** Moves a model job along the job machine; a move the machine forbids is a bug in the model. */
export function moveJob(job: ModelJob, to: JobStatus): void {
  if (job.status !== to && !isAllowedJobStatusChange(job.status, to))
    throw new Error(`model bug: job ${job.processor} of ${job.fileId} ${job.status} → ${to}`);
  job.status = to;
}

/** The processors that apply to a file of `slot` (a slot's own declaration wins over "every slot"). */
export function processorsFor(entity: ModelEntity, slot: string): ModelProcessor[] {
  const byName = new Map<string, ModelProcessor>();
  for (const p of entity.kind.processors ?? [])
    if (p.slot === undefined || p.slot === slot) {
      const seen = byName.get(p.processor);
      if (!seen || seen.slot === undefined) byName.set(p.processor, p);
    }
  return [...byName.values()];
}

/** The lifecycle's `processorsRequired`: a required processor applies to one of the entity's files. */
export function processorsRequired(m: LifecycleModel, entity: ModelEntity): boolean {
  return m.files
    .filter((f) => f.entityId === entity.id)
    .some((f) => processorsFor(entity, f.slot).some((p) => p.required));
}

/** The lifecycle's `requiredJobsComplete`: every required (file, processor) of the attempt has a complete job. */
export function requiredJobsComplete(m: LifecycleModel, entity: ModelEntity): boolean {
  const attempt = entity.snapshot.context.attempt;
  return m.files
    .filter((f) => f.entityId === entity.id)
    .every((f) =>
      processorsFor(entity, f.slot)
        .filter((p) => p.required)
        .every((p) =>
          m.jobs.some(
            (j) =>
              j.fileId === f.id &&
              j.processor === p.processor &&
              j.entityAttempt === attempt &&
              j.status === 'complete',
          ),
        ),
    );
}

/** finalize_upload's jobs for the entity's current attempt, all pending. */
export function createJobs(m: LifecycleModel, entity: ModelEntity): void {
  const attempt = entity.snapshot.context.attempt;
  for (const f of m.files.filter((x) => x.entityId === entity.id))
    for (const p of processorsFor(entity, f.slot))
      if (
        !m.jobs.some((j) => j.fileId === f.id && j.processor === p.processor && j.entityAttempt === attempt)
      )
        m.jobs.push({
          entityId: entity.id,
          fileId: f.id,
          processor: p.processor,
          required: p.required,
          maxAttempts: p.maxAttempts,
          entityAttempt: attempt,
          status: 'pending',
          attempt: 0,
        });
}

/**
 * cancel_stale_jobs: a failed entity's unfinished jobs (pending, running, failed) are cancelled —
 * dead ones stay; a retried entity's older attempts lose every unfinished job, dead ones too.
 */
export function cancelStaleJobs(m: LifecycleModel, entity: ModelEntity, retried: boolean): void {
  const attempt = entity.snapshot.context.attempt;
  for (const j of m.jobs) {
    if (j.entityId !== entity.id) continue;
    const stale = retried
      ? j.entityAttempt < attempt && ['pending', 'running', 'failed', 'dead'].includes(j.status)
      : ['pending', 'running', 'failed'].includes(j.status);
    if (stale) moveJob(j, 'cancelled');
  }
}

/** bury_job: dead, and a dead required job of the current attempt fails its processing entity. */
export function bury(m: LifecycleModel, job: ModelJob, message: string): void {
  moveJob(job, 'dead');
  job.letter = { at: m.clock, requeued: false };
  const entity = entityOf(m, job);
  if (
    job.required &&
    statusOfEntity(entity) === 'processing' &&
    entity.snapshot.context.attempt === job.entityAttempt
  )
    applyEvent(m, entity, { type: 'fail', reason: `processing failed: ${message}` });
}

/**
 * The sweep's job steps: running jobs whose lease is over go back to pending, or are buried (6);
 * dead letters past their retention are pruned (8).
 */
export function sweepJobs(m: LifecycleModel): void {
  for (const job of m.jobs) {
    if (job.status !== 'running' || job.claimedAt === m.clock) continue;
    moveJob(job, job.attempt < job.maxAttempts ? 'pending' : 'failed');
    job.backoffAt = undefined;
    if ((job.status as JobStatus) === 'failed') bury(m, job, 'lease expired');
  }
  for (const job of m.jobs)
    if (job.letter && m.clock - job.letter.at >= DEAD_LETTER_RETENTION_HOURS) delete job.letter;
}

/** The object keys of every artifact row the model expects (the jobs of live entities). */
export function artifactKeys(m: LifecycleModel): string[] {
  return m.jobs.flatMap((j) => j.artifacts ?? []);
}

/**
 * The jobs in the database are the model's (status, runs and artifacts), no completed entity has a
 * required job of its attempt that is not complete, and every artifact row belongs to a complete
 * job and lies under its entity's folder (`{owner}/{entity}/`).
 */
export async function checkJobs(m: LifecycleModel, db: SqlClient): Promise<void> {
  const { rows } = await db.query<{
    file_id: string;
    processor: string;
    entity_attempt: number;
    status: string;
    attempt: number;
    bad: boolean;
    artifacts: string[] | null;
    stray_artifacts: number;
  }>(
    `select j.file_id, j.processor, j.entity_attempt, j.status::text as status, j.attempt,
            (e.status = 'completed' and j.required and j.entity_attempt = e.attempt and j.status <> 'complete') as bad,
            a.keys as artifacts, coalesce(a.stray, 0)::int as stray_artifacts
     from upload_lifecycle.jobs j join upload_lifecycle.entities e on e.id = j.entity_id
     left join lateral (
       select jsonb_agg(x.bucket_id || '/' || x.object_path order by x.object_path) as keys,
              count(*) filter (where x.object_path not like e.owner_id::text || '/' || e.id::text || '/%'
                                  or x.entity_id <> j.entity_id or x.file_id <> j.file_id) as stray
       from upload_lifecycle.artifacts x where x.job_id = j.id
     ) a on true`,
  );
  const live = m.jobs.filter((j) => entityOf(m, j).exists);
  if (rows.length !== live.length)
    throw new Error(`the database has ${rows.length} jobs; the model ${live.length}`);
  for (const row of rows) {
    if (row.bad) throw new Error(`a completed entity has required job ${row.processor} ${row.status}`);
    const job = live.find(
      (j) =>
        j.fileId === row.file_id && j.processor === row.processor && j.entityAttempt === row.entity_attempt,
    );
    if (!job) throw new Error(`job ${row.processor} of file ${row.file_id} is not in the model`);
    if (job.status !== row.status || job.attempt !== row.attempt)
      throw new Error(
        `job ${row.processor} of file ${row.file_id}: the database has ${row.status} (run ${row.attempt}), the model ${job.status} (run ${job.attempt})`,
      );
    const artifacts = row.artifacts ?? [];
    if (artifacts.length > 0 && row.status !== 'complete')
      throw new Error(`job ${row.processor} of file ${row.file_id} is ${row.status} but has artifacts`);
    if (row.stray_artifacts > 0)
      throw new Error(
        `job ${row.processor} of file ${row.file_id} has an artifact outside its entity's folder`,
      );
    const want = [...(job.artifacts ?? [])].sort();
    if (artifacts.join() !== want.join())
      throw new Error(
        `job ${row.processor} of file ${row.file_id}: the database has artifacts [${artifacts.join(', ')}], the model [${want.join(', ')}]`,
      );
  }
}

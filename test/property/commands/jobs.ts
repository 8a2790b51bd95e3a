/**
 * Workers in the property test: claim, complete and fail processing jobs through the worker RPCs
 * (service_role), with the job machine and the lifecycle machine as the oracle. Lease expiry is
 * the clock moving (AdvanceClockCommand) and the sweep re-queueing (SweepCommand, via
 * {@link sweepJobs}); a crashed worker is one that never answers; a late completion is a
 * completion after the clock moved.
 */
import { service, type SqlClient } from '../../support/db.js';
import {
  applyEvent,
  problemsOf,
  modelFacts,
  statusOfEntity,
  type LifecycleModel,
} from '../../support/model-lifecycle.js';
import { bury, entityOf, moveJob, requiredJobsComplete, type ModelJob } from '../../support/model-jobs.js';
import { runAs, sql } from '../sql.js';
import { type Real, agree, count, outcome, LifecycleCommand } from './base.js';
import { CreateDraftCommand, FillRequirementsCommand, LifecycleOpCommand } from './lifecycle.js';

const WORKERS = ['w1', 'w2'] as const;
export type WorkerName = (typeof WORKERS)[number];

/** A job is held while it is running, by its worker, and the clock has not moved since the claim. */
const holds = (m: LifecycleModel, job: ModelJob, worker: string) =>
  job.status === 'running' && job.worker === worker && job.claimedAt === m.clock;

/** Whether the entity still waits for the job: its attempt, and processing (or completed, for optional jobs). */
function wanted(m: LifecycleModel, job: ModelJob): boolean {
  const entity = entityOf(m, job);
  const status = statusOfEntity(entity);
  return (
    entity.snapshot.context.attempt === job.entityAttempt &&
    (status === 'processing' || status === 'completed')
  );
}

async function jobId(db: SqlClient, job: ModelJob): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `select id from upload_lifecycle.jobs where file_id = $1 and processor = $2 and entity_attempt = $3`,
    [job.fileId, job.processor, job.entityAttempt],
  );
  if (!rows[0])
    throw new Error(`job ${job.processor} of file ${job.fileId} (attempt ${job.entityAttempt}) is missing`);
  return rows[0].id;
}

/** A worker claims every due job (max_jobs 100). */
export class ClaimJobsCommand extends LifecycleCommand {
  constructor(readonly worker: WorkerName) {
    super();
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const claimable = m.jobs.filter((j) => j.status === 'pending' && wanted(m, j));
    // A retried job waits out its backoff (seconds): due for sure once the clock moved, maybe before.
    const surely = claimable.filter((j) => j.backoffAt === undefined || j.backoffAt < m.clock);
    const rows = await runAs<{ file_id: string; processor: string; entity_attempt: number }>(
      r.db,
      service,
      sql`select file_id, processor, entity_attempt
          from public.claim_upload_jobs(worker_id => ${this.worker}, max_jobs => 100, lease_seconds => 600)`,
    );
    const key = (j: { fileId: string; processor: string; entityAttempt: number }) =>
      `${j.fileId}|${j.processor}|${j.entityAttempt}`;
    const got = new Set(
      rows.map((row) =>
        key({ fileId: row.file_id, processor: row.processor, entityAttempt: row.entity_attempt }),
      ),
    );
    const allowed = new Set(claimable.map(key));
    for (const k of got)
      if (!allowed.has(k)) throw new Error(`claim(${this.worker}) took ${k}, which is not claimable`);
    for (const j of surely)
      if (!got.has(key(j))) throw new Error(`claim(${this.worker}) left the due job ${key(j)}`);
    for (const j of claimable)
      if (got.has(key(j))) {
        moveJob(j, 'running');
        j.attempt += 1;
        j.worker = this.worker;
        j.claimedAt = m.clock;
      }
    count('claim_jobs', got.size > 0);
  }
  toString(): string {
    return `claim_upload_jobs as worker ${this.worker}`;
  }
}

abstract class JobCommand extends LifecycleCommand {
  constructor(readonly jobRef: number) {
    super();
  }
  override check(m: Readonly<LifecycleModel>): boolean {
    return m.jobs.length > 0;
  }
  protected job(m: LifecycleModel): ModelJob {
    // Running jobs first (what a worker answers for), newest first.
    const order = [
      ...m.jobs.filter((j) => j.status !== 'running'),
      ...m.jobs.filter((j) => j.status === 'running'),
    ];
    const job = order[order.length - 1 - (this.jobRef % order.length)]!;
    this.resolved = `job ${job.processor} of e${m.entities.indexOf(entityOf(m, job))} (${job.status})`;
    return job;
  }
}

/** The worker that claimed the job (or another) completes it. */
export class CompleteJobCommand extends JobCommand {
  constructor(
    jobRef: number,
    readonly asHolder: boolean,
  ) {
    super(jobRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const job = this.job(m);
    const entity = entityOf(m, job);
    const status = statusOfEntity(entity);
    const worker = this.asHolder ? (job.worker ?? 'w1') : 'intruder';
    // The same worker completing again answers the same (empty) result.
    const replay = job.status === 'complete' && job.worker === worker;
    let allowed = replay || holds(m, job, worker);
    let completesEntity = false;
    if (
      allowed &&
      !replay &&
      status === 'processing' &&
      entity.snapshot.context.attempt === job.entityAttempt
    ) {
      job.status = 'complete';
      completesEntity = requiredJobsComplete(m, entity);
      job.status = 'running';
      // At commit the completion check judges the files by the requirements as they stand now.
      if (completesEntity && problemsOf(modelFacts(m, entity), true).length > 0) allowed = false;
    }
    const id = await jobId(r.db, job);
    const result = await outcome(
      runAs(
        r.db,
        service,
        sql`select public.complete_upload_job(job_id => ${id}::uuid, worker_id => ${worker}, result => '{}'::jsonb, artifacts => '[]'::jsonb)`,
      ),
    );
    agree(this.toString(), allowed, result, 'complete_job', status ?? 'deleted');
    if (!allowed || replay) return;
    moveJob(job, 'complete');
    if (completesEntity) applyEvent(m, entity, { type: 'processed', requiredJobsComplete: true });
  }
  toString(): string {
    return `complete_upload_job(${this.resolved || `j?${this.jobRef}`}) as ${this.asHolder ? 'its worker' : 'another worker'}`;
  }
}

/** The worker that claimed the job reports a failed run, retryable or not. */
export class FailJobCommand extends JobCommand {
  constructor(
    jobRef: number,
    readonly retryable: boolean,
  ) {
    super(jobRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const job = this.job(m);
    const entity = entityOf(m, job);
    const status = statusOfEntity(entity);
    const worker = job.worker ?? 'w1';
    const allowed = holds(m, job, worker);
    const id = await jobId(r.db, job);
    const result = await outcome(
      runAs(
        r.db,
        service,
        sql`select public.fail_upload_job(job_id => ${id}::uuid, worker_id => ${worker}, error => '{"message":"boom"}'::jsonb, retryable => ${this.retryable})`,
      ),
    );
    agree(
      this.toString(),
      allowed,
      result,
      this.retryable ? 'fail_job retryable' : 'fail_job permanent',
      status ?? 'deleted',
    );
    if (!allowed) return;
    moveJob(job, 'failed');
    if (this.retryable && job.attempt < job.maxAttempts) {
      moveJob(job, 'pending');
      job.backoffAt = m.clock;
    } else bury(m, job, 'boom');
  }
  toString(): string {
    return `fail_upload_job(${this.resolved || `j?${this.jobRef}`}, retryable ${this.retryable})`;
  }
}

/**
 * The path to `processing` in one command, as the owner: a draft of the first kind with required
 * processors, its requirements filled, finalized — each sub-step checked like the single
 * commands. Random sequences rarely line these up on a kind with processors without it.
 */
export class ProcessUploadCommand extends LifecycleCommand {
  constructor(
    readonly owner: number,
    /** Then a worker claims every due job and completes what it holds. */
    readonly work: boolean,
  ) {
    super();
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const kindIndex = m.kinds.findIndex((k) => k.processors?.some((p) => p.required));
    await new CreateDraftCommand(this.owner, kindIndex, 'owner').step(m, r);
    await new FillRequirementsCommand(0).step(m, r);
    await new LifecycleOpCommand('finalize', 0, 'owner').step(m, r);
    if (!this.work) return;
    await new ClaimJobsCommand('w1').step(m, r);
    const held = m.jobs.filter((j) => j.status === 'running').length;
    // Ref 0 is the newest running job: each completion takes the next one.
    for (let i = 0; i < held; i++) await new CompleteJobCommand(0, true).step(m, r);
  }
  toString(): string {
    return `process_upload(owner u${this.owner}): create, fill, finalize${this.work ? ', claim and complete' : ''}`;
  }
}

export { WORKERS };

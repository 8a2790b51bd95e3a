/**
 * Workers in the property test: claim, complete and fail processing jobs through the worker RPCs
 * (service_role), with the job machine and the lifecycle machine as the oracle. Lease expiry is
 * the clock moving (AdvanceClockCommand) and the sweep re-queueing (SweepCommand, via
 * {@link sweepJobs}); a crashed worker is one that never answers; a late completion is a
 * completion after the clock moved.
 */
import { JOB_TRANSITIONS, type JobStatus } from '../../../src/machines/job.js';
import { service, superuser, user, type SqlClient } from '../../support/db.js';
import {
  MODEL_USERS,
  applyEvent,
  objectKey,
  problemsOf,
  modelFacts,
  statusOfEntity,
  type LifecycleModel,
  type ModelEntity,
} from '../../support/model-lifecycle.js';
import { bury, entityOf, moveJob, requiredJobsComplete, type ModelJob } from '../../support/model-jobs.js';
import { NoRowError } from '../driver.js';
import { runAs, sql } from '../sql.js';
import { type Real, type Outcome, agree, count, otherUser, outcome, LifecycleCommand } from './base.js';
import {
  CreateDraftCommand,
  FillRequirementsCommand,
  LifecycleOpCommand,
  RegisterFileCommand,
} from './lifecycle.js';

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
  protected job(m: LifecycleModel, first: JobStatus = 'running'): ModelJob {
    // Jobs of status `first` (running: what a worker answers for) before the rest, newest first.
    const order = [...m.jobs.filter((j) => j.status !== first), ...m.jobs.filter((j) => j.status === first)];
    const job = order[order.length - 1 - (this.jobRef % order.length)]!;
    this.resolved = `job ${job.processor} of e${m.entities.indexOf(entityOf(m, job))} (${job.status})`;
    return job;
  }
}

/**
 * What a completion reports as its artifact: nothing; a derived object stored under the entity's
 * folder; one never stored there; one stored, but in another user's folder.
 */
export type ArtifactVariant = 'none' | 'stored' | 'missing' | 'outside';

const ARTIFACT = { size: 42, mime: 'image/png' } as const;

/** Where the artifact of `variant` lies: under `{owner}/{entity}/` unless `outside`. */
function artifactPath(entity: ModelEntity, job: ModelJob, variant: ArtifactVariant): string {
  const folder =
    variant === 'outside'
      ? `${otherUser(entity.owner)}/${entity.id}`
      : `${MODEL_USERS[entity.owner]}/${entity.id}`;
  const name = `${variant === 'missing' ? 'never-stored' : 'derived'}-${job.processor}-a${job.entityAttempt}-${job.fileId.slice(0, 8)}.png`;
  return `${folder}/${name}`;
}

/**
 * The worker stores the derived object the way a worker with the service key does (the storage
 * server's row, written as service_role, owned by the folder's user) — unless it is there already.
 */
async function storeArtifactObject(
  m: LifecycleModel,
  r: Real,
  bucketId: string,
  name: string,
): Promise<void> {
  const key = objectKey(bucketId, name);
  if (m.objects.has(key)) return;
  const ownerId = name.split('/')[0]!;
  const metadata = JSON.stringify({ size: ARTIFACT.size, mimetype: ARTIFACT.mime });
  await runAs(
    r.db,
    service,
    sql`insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
        values (${bucketId}, ${name}, ${ownerId}::uuid, ${ownerId}, ${metadata}::jsonb)`,
  );
  m.objects.set(key, {
    bucketId,
    name,
    ownerId,
    size: ARTIFACT.size,
    mime: ARTIFACT.mime,
    writtenAt: m.clock,
  });
}

/** A refusal must carry `code` (the model knows why the database refuses). */
function refusedWith(what: string, result: Outcome, code: string | undefined): void {
  if (code !== undefined && !result.ok && result.code !== code)
    throw new Error(`${what}: refused with ${result.code} (${result.message}); the model expects ${code}`);
}

/**
 * The worker that claimed the job (or another) completes it, reporting an artifact or none. An
 * artifact counts only when its object is in storage under `{owner}/{entity}/` (UL004 otherwise);
 * an accepted completion records it, a refused one leaves the job as it was.
 */
export class CompleteJobCommand extends JobCommand {
  constructor(
    jobRef: number,
    readonly asHolder: boolean,
    readonly artifact: ArtifactVariant = 'none',
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
    const held = holds(m, job, worker);
    const badArtifact = this.artifact === 'missing' || this.artifact === 'outside';
    let allowed = replay || (held && !badArtifact);
    // Why the database must refuse, when the model knows: not held, or held with a bad artifact.
    const code = replay ? undefined : !held ? 'UL005' : badArtifact ? 'UL004' : undefined;
    const path = artifactPath(entity, job, this.artifact);
    const bucketId = entity.kind.bucketId;
    if (this.artifact === 'stored' || this.artifact === 'outside')
      await storeArtifactObject(m, r, bucketId, path);
    const artifacts =
      this.artifact === 'none'
        ? []
        : [{ variant: 'thumb', object_path: path, size: ARTIFACT.size, content_type: ARTIFACT.mime }];
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
        sql`select public.complete_upload_job(job_id => ${id}::uuid, worker_id => ${worker}, result => '{}'::jsonb, artifacts => ${JSON.stringify(artifacts)}::jsonb)`,
      ),
    );
    agree(
      this.toString(),
      allowed,
      result,
      this.artifact === 'none' ? 'complete_job' : `complete_job artifact ${this.artifact}`,
      status ?? 'deleted',
    );
    refusedWith(this.toString(), result, code);
    if (!allowed || replay) return;
    moveJob(job, 'complete');
    if (this.artifact === 'stored') job.artifacts = [objectKey(bucketId, path)];
    if (completesEntity) applyEvent(m, entity, { type: 'processed', requiredJobsComplete: true });
  }
  toString(): string {
    const artifact = this.artifact === 'none' ? '' : `, artifact ${this.artifact}`;
    return `complete_upload_job(${this.resolved || `j?${this.jobRef}`}${artifact}) as ${this.asHolder ? 'its worker' : 'another worker'}`;
  }
}

/**
 * An operator requeues a job from its newest dead letter (`requeue_failed_upload_job`):
 * service_role only (42501 for a signed-in user); the job must be dead, of the entity's current
 * attempt, and the entity still waiting for it — processing, or completed (UL005 otherwise);
 * dead → pending with its runs reset. A letter requeued before answers the job's state again; a
 * job without a letter (never buried, or pruned by the sweep) is not found (UL003).
 */
export class RequeueFailedJobCommand extends JobCommand {
  constructor(
    jobRef: number,
    readonly asService: boolean,
  ) {
    super(jobRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const job = this.job(m, 'dead');
    const entity = entityOf(m, job);
    const status = statusOfEntity(entity);
    const letter = job.letter;
    const waits =
      job.status === 'dead' &&
      entity.snapshot.context.attempt === job.entityAttempt &&
      (status === 'processing' || status === 'completed');
    const allowed = this.asService && letter !== undefined && (letter.requeued || waits);
    const code = !this.asService ? '42501' : letter === undefined ? 'UL003' : 'UL005';
    const { rows } = await r.db.query<{ id: string }>(
      `select d.id from upload_lifecycle.failed_jobs d
       where d.job_id = (select j.id from upload_lifecycle.jobs j
                         where j.file_id = $1 and j.processor = $2 and j.entity_attempt = $3)
       order by d.failed_at desc limit 1`,
      [job.fileId, job.processor, job.entityAttempt],
    );
    if ((rows[0] !== undefined) !== (letter !== undefined))
      throw new Error(
        `${this.toString()}: the database has ${rows[0] ? 'a' : 'no'} dead letter, the model ${letter ? 'one' : 'none'}`,
      );
    const letterId = rows[0] ? `'${rows[0].id}'::uuid` : 'gen_random_uuid()';
    const result = await outcome(
      runAs(
        r.db,
        this.asService ? service : user(MODEL_USERS[entity.owner]!),
        `select public.requeue_failed_upload_job(failed_job_id => ${letterId})`,
      ),
    );
    agree(this.toString(), allowed, result, 'requeue_job', status ?? 'deleted');
    refusedWith(this.toString(), result, allowed ? undefined : code);
    if (!allowed || letter!.requeued) return;
    moveJob(job, 'pending');
    job.attempt = 0;
    job.backoffAt = undefined;
    letter!.requeued = true;
  }
  toString(): string {
    return `requeue_failed_upload_job(${this.resolved || `j?${this.jobRef}`}) as ${this.asService ? 'service_role' : 'its owner'}`;
  }
}

/**
 * A direct `UPDATE jobs SET status` (superuser, or service_role, which may update jobs), rolled
 * back: the job guard takes exactly the job machine's moves — with the attempts_left guard — for
 * every role, and a status written again unchanged.
 */
export class DirectJobStatusCommand extends JobCommand {
  constructor(
    jobRef: number,
    readonly to: JobStatus,
    readonly role: 'superuser' | 'service_role',
  ) {
    super(jobRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    // Final and dead jobs first: the moves out of them are the ones the guard must refuse.
    const job = this.job(m, this.to === 'pending' ? 'dead' : 'complete');
    const from = job.status;
    const allowed =
      from === this.to ||
      JOB_TRANSITIONS.some(
        (t) =>
          t.from === from &&
          t.to === this.to &&
          (t.guard !== 'attempts_left' || job.attempt < job.maxAttempts),
      );
    const id = await jobId(r.db, job);
    const result = await outcome(
      runAs(
        r.db,
        this.role === 'superuser' ? superuser : service,
        // A running job has a lease (a check constraint): the update gives it one, as a claim does.
        this.to === 'running'
          ? sql`update upload_lifecycle.jobs set status = 'running', worker_id = 'direct',
                  lease_until = now() + interval '10 minutes' where id = ${id}::uuid returning id`
          : sql`update upload_lifecycle.jobs set status = ${this.to} where id = ${id}::uuid returning id`,
        { rollback: true },
      ).then((rows) => {
        if (rows.length === 0) throw new NoRowError('update job');
      }),
    );
    agree(
      this.toString(),
      allowed,
      result,
      'direct_job_status',
      statusOfEntity(entityOf(m, job)) ?? 'deleted',
    );
  }
  toString(): string {
    return `direct update ${this.resolved || `j?${this.jobRef}`} set status = ${this.to} as ${this.role} (rolled back)`;
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

/** What a {@link ProcessUploadCommand} does once the entity is processing. */
export type ProcessWork =
  /** Nothing: the jobs wait for the random commands. */
  | 'none'
  /** A worker claims every due job and completes what it holds. */
  | 'complete'
  /** A worker claims every due job and fails its optional ones for good: dead letters. */
  | 'bury_optional';

/**
 * The path to `processing` in one command, as the owner: a draft of the first kind with required
 * processors, its requirements filled (and, with `cover`, an optional file whose processor is
 * optional), finalized — each sub-step checked like the single commands. Random sequences rarely
 * line these up on a kind with processors without it.
 */
export class ProcessUploadCommand extends LifecycleCommand {
  constructor(
    readonly owner: number,
    readonly work: ProcessWork,
    readonly cover = false,
    /** What the completions of `complete` report. */
    readonly artifact: ArtifactVariant = 'none',
  ) {
    super();
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const kindIndex = m.kinds.findIndex((k) => k.processors?.some((p) => p.required));
    await new CreateDraftCommand(this.owner, kindIndex, 'owner').step(m, r);
    await new FillRequirementsCommand(0).step(m, r);
    const optionalSlot = m.kinds[kindIndex]!.requirements.findIndex((req) =>
      m.kinds[kindIndex]!.processors?.some((p) => !p.required && p.slot === req.slot),
    );
    if (this.cover && optionalSlot >= 0) {
      await new RegisterFileCommand(0, 'owner', optionalSlot, 'none', 99, 'fill-optional').step(m, r);
      await new FillRequirementsCommand(0).step(m, r); // stores its object
    }
    await new LifecycleOpCommand('finalize', 0, 'owner').step(m, r);
    if (this.work === 'none') return;
    await new ClaimJobsCommand('w1').step(m, r);
    const held = m.jobs.filter((j) => j.status === 'running');
    if (this.work === 'bury_optional') {
      for (const job of held.filter((j) => !j.required)) {
        const order = [
          ...m.jobs.filter((j) => j.status !== 'running'),
          ...m.jobs.filter((j) => j.status === 'running'),
        ];
        await new FailJobCommand(order.length - 1 - order.indexOf(job), false).step(m, r);
      }
      return;
    }
    // Ref 0 is the newest running job: each completion takes the next one.
    for (let i = 0; i < held.length; i++) await new CompleteJobCommand(0, true, this.artifact).step(m, r);
  }
  toString(): string {
    const cover = this.cover ? ' (with an optional file)' : '';
    const work =
      this.work === 'complete'
        ? `, claim and complete${this.artifact === 'none' ? '' : ` (artifact ${this.artifact})`}`
        : this.work === 'bury_optional'
          ? ', claim and fail the optional jobs for good'
          : '';
    return `process_upload(owner u${this.owner}): create, fill${cover}, finalize${work}`;
  }
}

export { WORKERS };

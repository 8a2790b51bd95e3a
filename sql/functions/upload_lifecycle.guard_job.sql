-- upload_lifecycle.guard_job
-- migrations: 0039_processing_jobs
-- The job machine (src/machines/job.ts, table job_transitions of 0038) for every role, the
-- superuser included: a new job is `pending` with no run used; a status change not in the table
-- is UL001; the guard attempts_left is UL006; the actions run by name
-- (start_run: attempt + 1, reset_attempts: attempt = 0). A job's identity never changes; leaving
-- `running` drops the lease; completed_at is set exactly when `complete`.
create or replace function upload_lifecycle.guard_job()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_transition upload_lifecycle.job_transitions;
begin
  if tg_op = 'INSERT' then
    if new.status is distinct from 'pending' then
      raise exception using
        errcode = 'UL001',
        message = format('forbidden job transition: none → %s', new.status),
        hint = 'A job starts pending; finalize_upload creates the jobs.';
    end if;
    new.attempt := 0;
    new.lease_until := null;
    new.worker_id := null;
    new.completed_at := null;
    new.created_at := now();
    new.updated_at := now();
    new.status_changed_at := now();
    return new;
  end if;

  if (new.id, new.entity_id, new.file_id, new.entity_attempt, new.processor, new.required, new.created_at)
     is distinct from
     (old.id, old.entity_id, old.file_id, old.entity_attempt, old.processor, old.required, old.created_at) then
    raise exception using
      errcode = 'UL005',
      message = 'id, entity, file, attempt, processor and required of a job never change',
      hint = 'Jobs are created by finalize_upload; use the job RPCs to move them.';
  end if;
  new.updated_at := now();

  if new.status is not distinct from old.status then
    new.attempt := old.attempt;
    new.status_changed_at := old.status_changed_at;
    new.completed_at := old.completed_at;
    if new.status <> 'running' then
      new.lease_until := old.lease_until;
    end if;
    return new;
  end if;

  select * into v_transition from upload_lifecycle.job_transitions t
    where t.from_status = old.status and t.to_status = new.status;
  if not found then
    raise exception using
      errcode = 'UL001',
      message = format('forbidden job transition: %s → %s', old.status, new.status),
      detail = format('job %s is %s; the job machine allows %s from there.', old.id, old.status,
        coalesce((select string_agg(format('%s → %s', t.event, t.to_status), ', ' order by t.to_status)
                  from upload_lifecycle.job_transitions t where t.from_status = old.status), 'nothing')),
      hint = 'Use the job RPCs (claim_upload_jobs, complete_upload_job, fail_upload_job).';
  end if;
  if v_transition.guard = 'attempts_left' and old.attempt >= old.max_attempts then
    raise exception using
      errcode = 'UL006',
      message = format('job %s has no attempts left (%s of %s used)', old.id, old.attempt, old.max_attempts),
      hint = 'Bury it (dead letter) instead, or requeue it from failed_jobs.';
  end if;

  new.attempt := old.attempt;
  if 'start_run' = any (v_transition.actions) then
    new.attempt := old.attempt + 1;
  end if;
  if 'reset_attempts' = any (v_transition.actions) then
    new.attempt := 0;
  end if;
  if new.status <> 'running' then
    new.lease_until := null;
  end if;
  new.status_changed_at := now();
  new.completed_at := case when new.status = 'complete' then now() else null end;
  return new;
end
$$;
revoke all on function upload_lifecycle.guard_job() from public;

drop trigger if exists jobs_guard on upload_lifecycle.jobs;
create trigger jobs_guard
  before insert or update on upload_lifecycle.jobs
  for each row execute function upload_lifecycle.guard_job();

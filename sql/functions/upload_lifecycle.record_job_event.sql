-- upload_lifecycle.record_job_event
-- migrations: 0039_processing_jobs
-- One job_events row per job creation and status change, whoever writes the job.
create or replace function upload_lifecycle.record_job_event()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_event text;
begin
  if tg_op = 'UPDATE' then
    if new.status is not distinct from old.status then
      return new;
    end if;
    select t.event into v_event from upload_lifecycle.job_transitions t
      where t.from_status = old.status and t.to_status = new.status;
  end if;
  insert into upload_lifecycle.job_events
    (job_id, entity_id, event, from_status, to_status, attempt, worker_id, error, actor_role)
  values
    (new.id, new.entity_id, coalesce(v_event, 'create'),
     case when tg_op = 'UPDATE' then old.status end, new.status, new.attempt, new.worker_id,
     case when new.status in ('failed', 'dead') then new.last_error end,
     upload_lifecycle.actor_role());
  return new;
end
$$;
revoke all on function upload_lifecycle.record_job_event() from public;

drop trigger if exists jobs_audit on upload_lifecycle.jobs;
create trigger jobs_audit
  after insert or update of status on upload_lifecycle.jobs
  for each row execute function upload_lifecycle.record_job_event();

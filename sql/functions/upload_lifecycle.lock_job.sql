-- upload_lifecycle.lock_job
-- migrations: 0040_job_rpcs
-- Locks a job for a worker's answer, entity first (the order every writer of both uses, so a
-- completion never deadlocks with a retry or a failure of the entity). Refuses (UL005) a job that
-- is not running, is held by another worker, or whose lease has expired; UL003 when missing.
create or replace function upload_lifecycle.lock_job(p_job_id uuid, p_worker_id text)
returns upload_lifecycle.jobs
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity_id uuid;
  v_job upload_lifecycle.jobs;
begin
  select j.entity_id into v_entity_id from upload_lifecycle.jobs j where j.id = p_job_id;
  if not found then
    perform upload_lifecycle.raise_not_found('job', p_job_id);
  end if;
  perform 1 from upload_lifecycle.entities e where e.id = v_entity_id for update;
  select * into v_job from upload_lifecycle.jobs j where j.id = p_job_id for update;
  if not found then
    perform upload_lifecycle.raise_not_found('job', p_job_id);
  end if;
  return v_job;
end
$$;
revoke all on function upload_lifecycle.lock_job(uuid, text) from public;

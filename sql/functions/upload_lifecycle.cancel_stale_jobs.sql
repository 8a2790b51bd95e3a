-- upload_lifecycle.cancel_stale_jobs
-- migrations: 0039_processing_jobs
-- An attempt that is over stops its jobs, whoever changed the status: when an entity fails, its
-- unfinished jobs (pending, running, failed) are cancelled — dead ones stay dead, so the owner
-- sees which processor failed; when it is retried, every unfinished job of the older attempts,
-- dead ones included, is cancelled. A worker still running a cancelled job has its completion
-- refused (UL005).
create or replace function upload_lifecycle.cancel_stale_jobs()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status = 'failed' then
    update upload_lifecycle.jobs j set status = 'cancelled'
      where j.entity_id = new.id and j.status in ('pending', 'running', 'failed');
  elsif new.status = 'uploading' and old.status = 'failed' then
    update upload_lifecycle.jobs j set status = 'cancelled'
      where j.entity_id = new.id and j.entity_attempt < new.attempt
        and j.status in ('pending', 'running', 'failed', 'dead');
  end if;
  return null;
end
$$;
revoke all on function upload_lifecycle.cancel_stale_jobs() from public;

drop trigger if exists entities_cancel_stale_jobs on upload_lifecycle.entities;
create trigger entities_cancel_stale_jobs
  after update of status on upload_lifecycle.entities
  for each row when (new.status is distinct from old.status)
  execute function upload_lifecycle.cancel_stale_jobs();

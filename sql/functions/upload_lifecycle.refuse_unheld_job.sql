-- upload_lifecycle.refuse_unheld_job
-- migrations: 0040_job_rpcs
-- A worker may answer for a job only while it holds it: running, its worker id, lease not expired.
create or replace function upload_lifecycle.refuse_unheld_job(p_job upload_lifecycle.jobs, p_worker_id text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_job.status <> 'running' then
    raise exception using errcode = 'UL005',
      message = format('job %s is %s, not running: this worker no longer holds it', p_job.id, p_job.status),
      hint = 'Drop the work: the job was cancelled, re-queued after its lease expired, or finished.';
  end if;
  if p_job.worker_id is distinct from p_worker_id then
    raise exception using errcode = 'UL005',
      message = format('job %s is held by another worker', p_job.id),
      hint = 'Drop the work: its lease expired and another worker claimed it.';
  end if;
  if p_job.lease_until <= pg_catalog.now() then
    raise exception using errcode = 'UL005',
      message = format('the lease of job %s expired at %s', p_job.id, p_job.lease_until),
      hint = 'Extend leases (extend_upload_job_leases) well before they end; drop this work.';
  end if;
end
$$;
revoke all on function upload_lifecycle.refuse_unheld_job(upload_lifecycle.jobs, text) from public;

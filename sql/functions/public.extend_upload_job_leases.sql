-- public.extend_upload_job_leases
-- migrations: 0040_job_rpcs
-- A worker's heartbeat: extends the leases it still holds (running, its worker id, lease not yet
-- expired) to now + lease_seconds and answers their ids; a job missing from the answer is lost —
-- cancelled, or re-queued after its lease expired — and its work must be dropped.
create or replace function public.extend_upload_job_leases(worker_id text, job_ids uuid[], lease_seconds integer default 300)
returns uuid[]
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_held uuid[];
begin
  if extend_upload_job_leases.lease_seconds is null or extend_upload_job_leases.lease_seconds not between 1 and 86400 then
    raise exception using errcode = 'UL004',
      message = format('lease_seconds must be between 1 and 86400, got %s', coalesce(extend_upload_job_leases.lease_seconds::text, 'null')),
      hint = 'Use a lease several heartbeats long, such as 300.';
  end if;
  with held as (
    update upload_lifecycle.jobs j
      set lease_until = pg_catalog.now() + make_interval(secs => extend_upload_job_leases.lease_seconds)
      where j.id = any (coalesce(extend_upload_job_leases.job_ids, '{}'))
        and j.status = 'running' and j.worker_id = extend_upload_job_leases.worker_id
        and j.lease_until > pg_catalog.now()
      returning j.id
  )
  select coalesce(array_agg(held.id order by held.id), '{}') into v_held from held;
  return v_held;
end
$$;
revoke all on function public.extend_upload_job_leases(text, uuid[], integer) from public, anon, authenticated, service_role;
grant execute on function public.extend_upload_job_leases(text, uuid[], integer) to service_role;
comment on function public.extend_upload_job_leases(text, uuid[], integer) is
$c$Workers (service_role): extends the leases this worker still holds; answers their ids.$c$;

-- upload_lifecycle.sweep_schedule_check
-- migrations: 0020_verify_setup
create or replace function upload_lifecycle.sweep_schedule_check()
returns table (ok boolean, detail text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_jobs integer;
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    return query select true, 'pg_cron is not installed: run sweep_upload_lifecycle() from a worker on a schedule';
    return;
  end if;
  execute $q$select count(*)::integer from cron.job where command ilike '%sweep_upload_lifecycle%'$q$ into v_jobs;
  return query select v_jobs > 0,
    case when v_jobs > 0 then format('%s pg_cron job(s) run sweep_upload_lifecycle', v_jobs)
         else 'pg_cron is installed but no job runs sweep_upload_lifecycle: apply the sweep schedule migration' end;
end
$$;
revoke all on function upload_lifecycle.sweep_schedule_check() from public;

-- upload_lifecycle.schedule_sweep
-- migrations: 0033_sweep_schedule
create or replace function upload_lifecycle.schedule_sweep(p_schedule text default '*/5 * * * *')
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_job bigint;
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    return null;
  end if;
  -- Dynamic SQL: the cron schema exists only with the extension.
  execute 'select cron.schedule($1, $2, $3)'
    into v_job
    using 'upload_lifecycle_sweep', p_schedule, 'select public.sweep_upload_lifecycle()';
  return v_job;
end
$$;
revoke all on function upload_lifecycle.schedule_sweep(text) from public;

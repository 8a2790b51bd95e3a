-- 0033 sweep schedule: where pg_cron is installed, the sweep runs by itself.
-- Guarantees:
--   * when the pg_cron extension exists in this database (on Supabase: Database → Extensions →
--     pg_cron, installed in the project's database), a job named `upload_lifecycle_sweep` runs
--     `select public.sweep_upload_lifecycle()` every 5 minutes. The job is created once: applying
--     the migrations again keeps a schedule changed since with upload_lifecycle.schedule_sweep();
--   * where pg_cron does not exist (PGlite, a server without it) this migration does nothing and
--     raises nothing; run sweep_upload_lifecycle() from a worker on a schedule instead.
--     verify_setup() reports which of the two applies.
-- Each run handles up to 1000 rows per step; schedule it more often for larger volumes.
-- Remove the job with `select cron.unschedule('upload_lifecycle_sweep')`.

-- @functions

do $$
declare
  v_scheduled boolean;
begin
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    execute $q$select exists (select 1 from cron.job where jobname = 'upload_lifecycle_sweep')$q$ into v_scheduled;
    if not v_scheduled then
      perform upload_lifecycle.schedule_sweep();
    end if;
  end if;
end
$$;

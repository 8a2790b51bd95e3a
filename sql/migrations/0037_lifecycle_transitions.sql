-- 0037 lifecycle transitions: GENERATED from src/machines/lifecycle.ts by `npm run generate`. Do not edit.
-- Guarantees: the status enum has exactly the machine's statuses, in order (0002 created it, 0036
-- added `processing`; this file refuses to apply otherwise), and upload_lifecycle.transitions holds
-- exactly the machine's status changes (from, event, to, guard, actions, who). One event may lead
-- to several statuses with exclusive guards (finalize: `ready_for_processing` → processing,
-- `requirements_met` → completed), so (from, event) is no longer unique; (from, to) still is.
do $$
begin
  if (select array_agg(e.enumlabel::text order by e.enumsortorder)
      from pg_enum e join pg_type t on t.oid = e.enumtypid
      join pg_namespace n on n.oid = t.typnamespace
      where n.nspname = 'upload_lifecycle' and t.typname = 'upload_status') is distinct from array['draft', 'uploading', 'processing', 'completed', 'failed']::text[] then
    raise exception 'upload_lifecycle.upload_status is not the lifecycle machine''s statuses %', array['draft', 'uploading', 'processing', 'completed', 'failed']::text[];
  end if;
end
$$;

alter table upload_lifecycle.transitions drop constraint if exists transitions_from_status_event_key;

delete from upload_lifecycle.transitions;
insert into upload_lifecycle.transitions (from_status, event, to_status, guard, actions, actors) values
  ('draft', 'begin_upload', 'uploading', null, array['start_attempt']::text[], array['owner']::text[]),
  ('uploading', 'finalize', 'processing', 'ready_for_processing', '{}'::text[], array['owner', 'service']::text[]),
  ('uploading', 'finalize', 'completed', 'requirements_met', '{}'::text[], array['owner', 'service']::text[]),
  ('uploading', 'fail', 'failed', null, array['record_failure']::text[], array['owner', 'service', 'sweeper']::text[]),
  ('processing', 'processed', 'completed', 'required_jobs_complete', '{}'::text[], array['worker']::text[]),
  ('processing', 'fail', 'failed', null, array['record_failure']::text[], array['owner', 'service', 'worker', 'sweeper']::text[]),
  ('failed', 'retry', 'uploading', 'attempts_left', array['start_attempt']::text[], array['owner']::text[]);

-- upload_lifecycle.refuse_job_event_change
-- migrations: 0039_processing_jobs
-- job_events is append-only: no UPDATE ever; DELETE only by the sweep's retention step, which
-- sets upload_lifecycle.pruning_job_events for its transaction.
create or replace function upload_lifecycle.refuse_job_event_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and coalesce(current_setting('upload_lifecycle.pruning_job_events', true), '') = 'on' then
    return old;
  end if;
  raise exception using
    errcode = 'UL005',
    message = 'job_events is append-only',
    hint = 'Job events are written by triggers and removed only by the sweep after their retention.';
end
$$;
revoke all on function upload_lifecycle.refuse_job_event_change() from public;

drop trigger if exists job_events_append_only on upload_lifecycle.job_events;
create trigger job_events_append_only
  before update or delete on upload_lifecycle.job_events
  for each row execute function upload_lifecycle.refuse_job_event_change();

-- upload_lifecycle.queue_file_objects
-- migrations: 0030_storage_deletions
create or replace function upload_lifecycle.queue_file_objects()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  -- The sweep names its own reason for the rows it deletes (a transaction-local setting). Anyone
  -- can set a custom setting, so only the sweep's reasons are taken from it.
  v_sweep_reason text := nullif(current_setting('upload_lifecycle.deletion_reason', true), '');
begin
  if v_sweep_reason not in ('draft_expired', 'failed_expired') then
    v_sweep_reason := null;
  end if;
  insert into upload_lifecycle.storage_deletions (bucket_id, object_path, reason, entity_id)
  select r.bucket_id, r.object_path,
         coalesce(v_sweep_reason,
                  case when exists (select 1 from upload_lifecycle.entities e where e.id = r.entity_id)
                       then 'file_removed' else 'entity_deleted' end),
         r.entity_id
  from removed_files r
  on conflict (bucket_id, object_path) where done_at is null do nothing;
  return null;
end
$$;
revoke all on function upload_lifecycle.queue_file_objects() from public;

drop trigger if exists entity_files_queue_deletions on upload_lifecycle.entity_files;
create trigger entity_files_queue_deletions
  after delete on upload_lifecycle.entity_files
  referencing old table as removed_files
  for each statement execute function upload_lifecycle.queue_file_objects();

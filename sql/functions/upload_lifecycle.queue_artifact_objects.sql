-- upload_lifecycle.queue_artifact_objects
-- migrations: 0039_processing_jobs
-- Deleted artifact rows (their entity, file or job deleted) queue their objects in the deletion
-- outbox in the same statement, like file rows (0030): no derived object outlives its row.
create or replace function upload_lifecycle.queue_artifact_objects()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into upload_lifecycle.storage_deletions (bucket_id, object_path, reason, entity_id)
  select o.bucket_id, o.object_path,
         case when exists (select 1 from upload_lifecycle.entities e where e.id = o.entity_id)
              then 'file_removed' else 'entity_deleted' end,
         o.entity_id
  from gone o
  on conflict (bucket_id, object_path) where done_at is null do nothing;
  return null;
end
$$;
revoke all on function upload_lifecycle.queue_artifact_objects() from public;

drop trigger if exists artifacts_queue_objects on upload_lifecycle.artifacts;
create trigger artifacts_queue_objects
  after delete on upload_lifecycle.artifacts
  referencing old table as gone
  for each statement execute function upload_lifecycle.queue_artifact_objects();

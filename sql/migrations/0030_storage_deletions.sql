-- 0030 deletion outbox: no object outlives its file row.
-- Guarantees:
--   * upload_lifecycle.storage_deletions queues objects to remove through the Storage API (SQL
--     DELETE on storage.objects is refused by Storage's own trigger, and would leave the bytes
--     behind anyway). One row per (bucket_id, object_path) while pending: queueing a path that is
--     already pending is a no-op, so the sweep and the triggers may queue the same path twice;
--   * deleting file rows by any path — remove_upload_file, the owner's delete_upload, the sweep,
--     an admin's DELETE, the cascade from entities or from auth.users — queues their objects in the
--     same transaction (statement trigger with a transition table: one INSERT per statement).
--     The path is queued whether or not the object exists yet: an upload still in flight may
--     write it later, and removing a missing object is harmless;
--   * `reason` says why: `file_removed` (the entity still exists), `entity_deleted`, or what the
--     sweep sets for its own deletions (`draft_expired`, `failed_expired`, `orphan`);
--   * only service_role (workers) can read or write the outbox; RLS on, nothing for API users.

create table if not exists upload_lifecycle.storage_deletions (
  id bigint generated always as identity primary key,
  bucket_id text not null,
  object_path text not null,
  reason text not null check (reason in ('file_removed', 'entity_deleted', 'draft_expired', 'failed_expired', 'orphan')),
  entity_id uuid,
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  claimed_at timestamptz,
  done_at timestamptz,
  last_error text,
  created_at timestamptz not null default now()
);

-- Pending rows are unique per object: the ON CONFLICT target of every producer.
create unique index if not exists storage_deletions_pending
  on upload_lifecycle.storage_deletions (bucket_id, object_path) where done_at is null;
-- What a worker claims: due pending rows, oldest first. Partial, so done rows cost nothing.
create index if not exists storage_deletions_due
  on upload_lifecycle.storage_deletions (next_attempt_at, id) where done_at is null;
-- What the sweep prunes: done rows past their retention.
create index if not exists storage_deletions_done
  on upload_lifecycle.storage_deletions (done_at) where done_at is not null;

alter table upload_lifecycle.storage_deletions enable row level security;
revoke all on upload_lifecycle.storage_deletions from public, anon, authenticated, service_role;
grant select, insert, update, delete on upload_lifecycle.storage_deletions to service_role;

drop policy if exists storage_deletions_service on upload_lifecycle.storage_deletions;
create policy storage_deletions_service on upload_lifecycle.storage_deletions
  for all to service_role using (true) with check (true);

-- 0003 kinds and file requirements: what each kind of entity must own before it may complete.
-- Guarantees: every entity belongs to a declared kind with its own bucket and TTLs; a requirement
-- is a slot with 0 <= min_count <= max_count (max_count >= 1), a positive byte limit and a
-- non-empty list of allowed MIME types. Only service_role (and the owner of the schema) may change them.

create table if not exists upload_lifecycle.entity_kinds (
  kind text primary key check (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
  bucket_id text not null unique check (bucket_id ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  draft_ttl interval not null default interval '1 day' check (draft_ttl > interval '0'),
  upload_ttl interval not null default interval '1 day' check (upload_ttl > interval '0'),
  failed_ttl interval not null default interval '7 days' check (failed_ttl > interval '0'),
  max_attempts integer not null default 3 check (max_attempts >= 1),
  max_unfinished_per_owner integer not null default 50 check (max_unfinished_per_owner >= 1),
  max_metadata_bytes integer not null default 16384 check (max_metadata_bytes between 2 and 1048576),
  created_at timestamptz not null default now()
);

create table if not exists upload_lifecycle.file_requirements (
  kind text not null references upload_lifecycle.entity_kinds (kind) on delete cascade,
  slot text not null check (slot ~ '^[a-z][a-z0-9_]{0,62}$'),
  min_count integer not null default 1 check (min_count >= 0),
  max_count integer not null default 1 check (max_count >= 1),
  max_bytes bigint not null check (max_bytes > 0),
  allowed_mime_types text[] not null check (cardinality(allowed_mime_types) > 0),
  primary key (kind, slot),
  check (min_count <= max_count)
);

alter table upload_lifecycle.entity_kinds enable row level security;
alter table upload_lifecycle.file_requirements enable row level security;

revoke all on upload_lifecycle.entity_kinds, upload_lifecycle.file_requirements from public, anon, authenticated, service_role;
grant select on upload_lifecycle.entity_kinds, upload_lifecycle.file_requirements to authenticated;
grant select, insert, update, delete on upload_lifecycle.entity_kinds, upload_lifecycle.file_requirements to service_role;

-- Kinds and requirements are public configuration for signed-in users (clients validate against
-- them before sending a byte); anon sees nothing.
drop policy if exists entity_kinds_read on upload_lifecycle.entity_kinds;
create policy entity_kinds_read on upload_lifecycle.entity_kinds
  for select to authenticated using (true);
drop policy if exists file_requirements_read on upload_lifecycle.file_requirements;
create policy file_requirements_read on upload_lifecycle.file_requirements
  for select to authenticated using (true);

-- 0005 entity files: the files an entity owns, one row per object in Storage.
-- Guarantees: a file belongs to an entity and to a slot of that entity's kind (composite foreign
-- keys), has a positive declared size, a declared MIME type, a safe original name (1..255 bytes, no
-- control characters, no path separators) that never enters the object path, an optional
-- lowercase hex sha256, and a unique (bucket_id, object_path). Deleting the entity deletes its files.

create table if not exists upload_lifecycle.entity_files (
  id uuid primary key default gen_random_uuid(),
  entity_id uuid not null,
  kind text not null,
  slot text not null,
  bucket_id text not null,
  object_path text not null,
  original_name text not null check (
    octet_length(original_name) between 1 and 255
    and original_name !~ '[[:cntrl:]/\\]'
    and original_name not in ('.', '..')
  ),
  declared_size bigint not null check (declared_size > 0),
  declared_mime text not null check (declared_mime ~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$'),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  verified_at timestamptz,
  created_at timestamptz not null default now(),
  foreign key (entity_id, kind) references upload_lifecycle.entities (id, kind) on delete cascade,
  foreign key (kind, slot) references upload_lifecycle.file_requirements (kind, slot),
  unique (bucket_id, object_path)
);

create index if not exists entity_files_entity on upload_lifecycle.entity_files (entity_id, slot);

alter table upload_lifecycle.entity_files enable row level security;
revoke all on upload_lifecycle.entity_files from public, anon, authenticated, service_role;
grant select on upload_lifecycle.entity_files to authenticated;
grant select, insert, update, delete on upload_lifecycle.entity_files to service_role;

drop policy if exists entity_files_owner_read on upload_lifecycle.entity_files;
create policy entity_files_owner_read on upload_lifecycle.entity_files
  for select to authenticated using (
    exists (
      select 1 from upload_lifecycle.entities e
      where e.id = entity_files.entity_id and e.owner_id = (select auth.uid())
    )
  );

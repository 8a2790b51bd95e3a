-- 0004 entities: one row per record that owns files.
-- Guarantees: an entity has a kind, an owner (a Supabase auth user; deleting the user deletes the
-- entity), a status of the lifecycle enum starting at the machine's initial status, metadata that
-- is a JSON object, an idempotency key unique per owner, and completed_at set exactly when completed.
-- Signed-in users may read their own rows; nobody but service_role may write them directly.

create table if not exists upload_lifecycle.entities (
  id uuid primary key default gen_random_uuid(),
  kind text not null references upload_lifecycle.entity_kinds (kind),
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  status upload_lifecycle.upload_status not null default upload_lifecycle.initial_status(),
  metadata jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  idempotency_key text check (char_length(idempotency_key) between 1 and 200),
  attempt integer not null default 0 check (attempt >= 0),
  failure_reason text check (char_length(failure_reason) <= 500),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  status_changed_at timestamptz not null default now(),
  completed_at timestamptz,
  unique (id, kind),
  check ((status = 'completed') = (completed_at is not null))
);

create unique index if not exists entities_owner_idempotency_key
  on upload_lifecycle.entities (owner_id, idempotency_key) where idempotency_key is not null;
create index if not exists entities_owner_created on upload_lifecycle.entities (owner_id, created_at desc);
create index if not exists entities_status_changed on upload_lifecycle.entities (status, status_changed_at);

alter table upload_lifecycle.entities enable row level security;
revoke all on upload_lifecycle.entities from public, anon, authenticated, service_role;
grant select on upload_lifecycle.entities to authenticated;
grant select, insert, update, delete on upload_lifecycle.entities to service_role;

drop policy if exists entities_owner_read on upload_lifecycle.entities;
create policy entities_owner_read on upload_lifecycle.entities
  for select to authenticated using (owner_id = (select auth.uid()));

-- 0039 processing jobs: "completed" means processed. Finalize creates one job per file × processor
-- of the kind; the entity is `processing` until every required job of its current attempt is
-- `complete`, and the database — not the worker — moves it to `completed`.
-- Guarantees:
--   * kind_processors configures, per kind and optional slot (null: every slot), a processor by
--     name, whether it is required, and its max_attempts. Signed-in users read it (like
--     file_requirements); only service_role writes it;
--   * jobs: one per (file, processor, entity attempt), with the job machine's status (0038), the
--     runs used and allowed, the lease (lease_until, worker_id), run_after (backoff), last_error
--     and result. A trigger (guard_job_update) refuses, for every role, a status change not in
--     job_transitions (UL001), a new job not `pending`, and a change of its identity columns (UL005);
--   * job_events: one row per job creation and status change, written by trigger; append-only
--     (the sweep alone prunes rows past sweep_state.job_event_retention);
--   * artifacts: derived objects of a completed job (variant, bucket, path, size, content type,
--     sha256), inserted by complete_upload_job only after checking storage.objects; deleting them
--     (with their entity) queues their objects in the deletion outbox;
--   * failed_jobs: the dead letter — the whole job row and its last events as JSONB, written when a
--     job is buried; pruned by the sweep past sweep_state.dead_letter_retention;
--   * RLS on every table: owners read the rows of their own entities, nobody else; no direct
--     writes for API users. Workers (service_role) use the RPCs of 0040.

create table if not exists upload_lifecycle.kind_processors (
  id uuid primary key default gen_random_uuid(),
  kind text not null references upload_lifecycle.entity_kinds (kind) on delete cascade,
  processor text not null check (processor ~ '^[a-z][a-z0-9_]{0,62}$'),
  slot text,
  required boolean not null default true,
  max_attempts integer not null default 3 check (max_attempts between 1 and 100),
  created_at timestamptz not null default now(),
  foreign key (kind, slot) references upload_lifecycle.file_requirements (kind, slot) on delete cascade
);
create unique index if not exists kind_processors_unique
  on upload_lifecycle.kind_processors (kind, processor, coalesce(slot, ''));

create table if not exists upload_lifecycle.jobs (
  id uuid primary key default gen_random_uuid(),
  entity_id uuid not null references upload_lifecycle.entities (id) on delete cascade,
  file_id uuid not null references upload_lifecycle.entity_files (id) on delete cascade,
  entity_attempt integer not null check (entity_attempt >= 1),
  processor text not null check (processor ~ '^[a-z][a-z0-9_]{0,62}$'),
  required boolean not null,
  status upload_lifecycle.job_status not null default 'pending',
  attempt integer not null default 0 check (attempt >= 0),
  max_attempts integer not null check (max_attempts >= 1),
  run_after timestamptz not null default now(),
  lease_until timestamptz,
  worker_id text check (char_length(worker_id) between 1 and 200),
  last_error jsonb,
  result jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  status_changed_at timestamptz not null default now(),
  completed_at timestamptz,
  unique (file_id, processor, entity_attempt),
  check ((status = 'complete') = (completed_at is not null)),
  check ((status = 'running') = (lease_until is not null))
);
-- What claim reads: pending jobs due, oldest first.
create index if not exists jobs_due on upload_lifecycle.jobs (run_after, created_at) where status = 'pending';
-- What the sweep reads: running jobs by lease end.
create index if not exists jobs_leases on upload_lifecycle.jobs (lease_until) where status = 'running';
create index if not exists jobs_entity on upload_lifecycle.jobs (entity_id, entity_attempt);

create table if not exists upload_lifecycle.job_events (
  id bigint generated always as identity primary key,
  job_id uuid not null,
  entity_id uuid not null,
  event text not null,
  from_status upload_lifecycle.job_status,
  to_status upload_lifecycle.job_status not null,
  attempt integer not null,
  worker_id text,
  error jsonb,
  actor_role text,
  created_at timestamptz not null default now()
);
create index if not exists job_events_job on upload_lifecycle.job_events (job_id, id);
create index if not exists job_events_created on upload_lifecycle.job_events (created_at);

create table if not exists upload_lifecycle.artifacts (
  id uuid primary key default gen_random_uuid(),
  job_id uuid not null references upload_lifecycle.jobs (id) on delete cascade,
  entity_id uuid not null references upload_lifecycle.entities (id) on delete cascade,
  file_id uuid not null references upload_lifecycle.entity_files (id) on delete cascade,
  variant text not null check (variant ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  bucket_id text not null,
  object_path text not null,
  size bigint not null check (size >= 0),
  content_type text not null check (content_type ~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$'),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  unique (job_id, variant),
  unique (bucket_id, object_path)
);
create index if not exists artifacts_entity on upload_lifecycle.artifacts (entity_id);

create table if not exists upload_lifecycle.failed_jobs (
  id uuid primary key default gen_random_uuid(),
  job_id uuid not null,
  entity_id uuid not null references upload_lifecycle.entities (id) on delete cascade,
  processor text not null,
  job jsonb not null,
  events jsonb not null,
  error jsonb,
  failed_at timestamptz not null default now(),
  requeued_at timestamptz
);
create index if not exists failed_jobs_failed_at on upload_lifecycle.failed_jobs (failed_at);
create index if not exists failed_jobs_job on upload_lifecycle.failed_jobs (job_id);

alter table upload_lifecycle.sweep_state
  add column if not exists job_event_retention interval not null default interval '30 days'
    check (job_event_retention >= interval '0'),
  add column if not exists dead_letter_retention interval not null default interval '30 days'
    check (dead_letter_retention >= interval '0');

alter table upload_lifecycle.kind_processors enable row level security;
alter table upload_lifecycle.jobs enable row level security;
alter table upload_lifecycle.job_events enable row level security;
alter table upload_lifecycle.artifacts enable row level security;
alter table upload_lifecycle.failed_jobs enable row level security;

revoke all on upload_lifecycle.kind_processors, upload_lifecycle.jobs, upload_lifecycle.job_events,
  upload_lifecycle.artifacts, upload_lifecycle.failed_jobs from public, anon, authenticated, service_role;
grant select on upload_lifecycle.kind_processors, upload_lifecycle.jobs, upload_lifecycle.job_events,
  upload_lifecycle.artifacts, upload_lifecycle.failed_jobs to authenticated;
grant select, insert, update, delete on upload_lifecycle.kind_processors to service_role;
-- Job status changes go through the guard trigger whoever writes them; the RPCs are the way.
grant select, update on upload_lifecycle.jobs to service_role;
grant select on upload_lifecycle.job_events, upload_lifecycle.artifacts to service_role;
grant select, delete on upload_lifecycle.failed_jobs to service_role;

drop policy if exists kind_processors_read on upload_lifecycle.kind_processors;
create policy kind_processors_read on upload_lifecycle.kind_processors
  for select to authenticated using (true);
drop policy if exists jobs_owner_read on upload_lifecycle.jobs;
create policy jobs_owner_read on upload_lifecycle.jobs
  for select to authenticated using (
    exists (select 1 from upload_lifecycle.entities e
            where e.id = jobs.entity_id and e.owner_id = (select auth.uid())));
drop policy if exists job_events_owner_read on upload_lifecycle.job_events;
create policy job_events_owner_read on upload_lifecycle.job_events
  for select to authenticated using (
    exists (select 1 from upload_lifecycle.entities e
            where e.id = job_events.entity_id and e.owner_id = (select auth.uid())));
drop policy if exists artifacts_owner_read on upload_lifecycle.artifacts;
create policy artifacts_owner_read on upload_lifecycle.artifacts
  for select to authenticated using (
    exists (select 1 from upload_lifecycle.entities e
            where e.id = artifacts.entity_id and e.owner_id = (select auth.uid())));
drop policy if exists failed_jobs_owner_read on upload_lifecycle.failed_jobs;
create policy failed_jobs_owner_read on upload_lifecycle.failed_jobs
  for select to authenticated using (
    exists (select 1 from upload_lifecycle.entities e
            where e.id = failed_jobs.entity_id and e.owner_id = (select auth.uid())));

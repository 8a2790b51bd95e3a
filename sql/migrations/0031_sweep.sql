-- 0031 sweep: abandoned drafts, idle uploads, long-failed rows and orphaned objects never stay forever.
-- Guarantees of public.sweep_upload_lifecycle(now, batch) (service_role only):
--   * drafts whose status is older than their kind's draft_ttl are deleted (reason draft_expired);
--   * `uploading` entities idle past upload_ttl take the lifecycle's `fail` event (the one the
--     transition table allows the sweeper) with reason `expired`; the audit trigger writes the
--     event. "Idle" means no activity since now - upload_ttl, where activity is the newest of:
--     the last status change (begin_upload / retry_upload), the newest file registration and the
--     newest write of one of its objects. So an upload that keeps registering files or storing
--     bytes is never expired, and one that stopped is expired upload_ttl after it stopped;
--   * `failed` entities whose failure is older than failed_ttl are deleted (reason failed_expired);
--   * objects in a lifecycle bucket (a kind's bucket) without a file row, not written for
--     sweep_state.orphan_grace, are queued as orphans. Objects of other buckets are never touched;
--   * `completed` entities and the objects of existing file rows are never touched;
--   * deleted entities queue their objects through the outbox trigger of 0030, in the same
--     transaction, so no object outlives its row;
--   * done outbox rows older than sweep_state.outbox_retention are pruned.
-- Concurrency: every step takes at most `batch` rows with FOR UPDATE SKIP LOCKED, so several
-- sweeps (cron, workers) run at once without waiting for or double-processing a row; the orphan
-- scan takes a transaction-level advisory lock (try, never wait), so one sweep scans while the
-- others skip it.
-- Cost: every step reads a partial index in the order it works and stops after `batch` rows, so
-- it grows with the work found, not with the tables. The orphan scan is the exception by nature
-- (an orphan is the absence of a row): it examines at most `batch` objects per call, continuing
-- from a cursor over storage.objects' (bucket_id, name) index, and wraps around; a full pass takes
-- (objects in lifecycle buckets / batch) calls. Call again while a count equals `batch`.

create table if not exists upload_lifecycle.sweep_state (
  id boolean primary key default true check (id),
  orphan_grace interval not null default interval '1 hour' check (orphan_grace >= interval '0'),
  outbox_retention interval not null default interval '7 days' check (outbox_retention >= interval '0'),
  orphan_cursor_bucket text,
  orphan_cursor_name text,
  orphan_passes bigint not null default 0,
  updated_at timestamptz not null default now()
);
insert into upload_lifecycle.sweep_state (id) values (true) on conflict (id) do nothing;

alter table upload_lifecycle.sweep_state enable row level security;
revoke all on upload_lifecycle.sweep_state from public, anon, authenticated, service_role;
grant select, update on upload_lifecycle.sweep_state to service_role;
drop policy if exists sweep_state_service on upload_lifecycle.sweep_state;
create policy sweep_state_service on upload_lifecycle.sweep_state
  for all to service_role using (true) with check (true);

-- One partial index per status the sweep visits, in the order it visits: (kind, age).
-- `completed` rows — the bulk of a mature table — are in none of them.
create index if not exists entities_sweep_draft
  on upload_lifecycle.entities (kind, status_changed_at) where status = 'draft';
create index if not exists entities_sweep_uploading
  on upload_lifecycle.entities (kind, status_changed_at) where status = 'uploading';
create index if not exists entities_sweep_failed
  on upload_lifecycle.entities (kind, status_changed_at) where status = 'failed';

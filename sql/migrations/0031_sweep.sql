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

-- The orphan scan: up to p_budget objects of lifecycle buckets from the cursor on.
create or replace function upload_lifecycle.sweep_orphans(p_now timestamptz, p_budget integer)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_state upload_lifecycle.sweep_state;
  v_bucket text;
  v_after text;
  v_want integer;
  v_n integer;
  v_queued_now integer;
  v_last text;
  v_scanned integer := 0;
  v_queued integer := 0;
  v_complete boolean := false;
begin
  -- One sweep scans at a time; the others skip the scan rather than wait. A transaction-level
  -- advisory lock rather than the row's lock, so that even re-creating a missing cursor row
  -- never makes a second sweep wait on the first one's INSERT.
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('upload_lifecycle.sweep_orphans')) then
    return jsonb_build_object('orphans_queued', 0, 'objects_scanned', 0, 'orphan_pass_complete', false);
  end if;
  insert into upload_lifecycle.sweep_state (id) values (true) on conflict (id) do nothing;
  select * into v_state from upload_lifecycle.sweep_state s where s.id for update;

  v_bucket := v_state.orphan_cursor_bucket;
  v_after := coalesce(v_state.orphan_cursor_name, '');
  loop
    -- The cursor's bucket, or the next lifecycle bucket after it (a kind may have been removed).
    select min(k.bucket_id) into v_last from upload_lifecycle.entity_kinds k
      where v_bucket is null or k.bucket_id >= v_bucket;
    if v_last is distinct from v_bucket then
      v_after := '';
    end if;
    v_bucket := v_last;
    if v_bucket is null then
      v_complete := true;
      exit;
    end if;
    exit when v_scanned >= p_budget;
    v_want := p_budget - v_scanned;

    with scanned as (
      select o.name, o.updated_at from storage.objects o
      where o.bucket_id = v_bucket and o.name > v_after
      order by o.name
      limit v_want
    ),
    queued as (
      insert into upload_lifecycle.storage_deletions (bucket_id, object_path, reason)
      select v_bucket, s.name, 'orphan' from scanned s
      where s.updated_at <= p_now - v_state.orphan_grace
        and not exists (select 1 from upload_lifecycle.entity_files f
                        where f.bucket_id = v_bucket and f.object_path = s.name)
      on conflict (bucket_id, object_path) where done_at is null do nothing
      returning 1
    )
    select count(*)::integer, max(s.name), (select count(*)::integer from queued)
      into v_n, v_last, v_queued_now
      from scanned s;

    v_scanned := v_scanned + v_n;
    v_queued := v_queued + v_queued_now;
    if v_n < v_want then
      -- This bucket is done; continue with the next one.
      select min(k.bucket_id) into v_last from upload_lifecycle.entity_kinds k where k.bucket_id > v_bucket;
      v_after := '';
      if v_last is null then
        v_bucket := null;
        v_complete := true;
        exit;
      end if;
      v_bucket := v_last;
    else
      v_after := v_last;
    end if;
  end loop;

  update upload_lifecycle.sweep_state s
    set orphan_cursor_bucket = case when v_complete then null else v_bucket end,
        orphan_cursor_name = case when v_complete then null else nullif(v_after, '') end,
        orphan_passes = s.orphan_passes + case when v_complete then 1 else 0 end,
        updated_at = pg_catalog.now()
    where s.id;
  return jsonb_build_object('orphans_queued', v_queued, 'objects_scanned', v_scanned,
                            'orphan_pass_complete', v_complete);
end
$$;
revoke all on function upload_lifecycle.sweep_orphans(timestamptz, integer) from public;

create or replace function public.sweep_upload_lifecycle(now timestamptz default now(), batch integer default 1000)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_now constant timestamptz := coalesce(sweep_upload_lifecycle.now, pg_catalog.now());
  v_batch constant integer := sweep_upload_lifecycle.batch;
  v_fail_to upload_lifecycle.upload_status;
  v_retention interval;
  v_kind record;
  v_n integer;
  v_drafts integer := 0;
  v_expired integer := 0;
  v_failed integer := 0;
  v_pruned integer := 0;
  v_orphans jsonb;
begin
  if v_batch is null or v_batch < 1 or v_batch > 100000 then
    raise exception using
      errcode = 'UL004',
      message = format('batch must be between 1 and 100000, got %s', coalesce(v_batch::text, 'null')),
      hint = 'Use a batch of about 1000 and call the sweep again while a count equals the batch.';
  end if;

  -- What `fail` leads to, as long as the lifecycle lets the sweeper fail an upload.
  select t.to_status into v_fail_to from upload_lifecycle.transitions t
    where t.from_status = 'uploading' and t.event = 'fail' and 'sweeper' = any (t.actors);

  -- 1. Expired drafts.
  perform pg_catalog.set_config('upload_lifecycle.deletion_reason', 'draft_expired', true);
  for v_kind in select k.kind, k.draft_ttl from upload_lifecycle.entity_kinds k order by k.kind loop
    exit when v_drafts >= v_batch;
    with doomed as (
      select e.id from upload_lifecycle.entities e
      where e.kind = v_kind.kind and e.status = 'draft'
        and e.status_changed_at <= v_now - v_kind.draft_ttl
      order by e.status_changed_at
      limit v_batch - v_drafts
      for update skip locked
    )
    delete from upload_lifecycle.entities e using doomed d where e.id = d.id;
    get diagnostics v_n = row_count;
    v_drafts := v_drafts + v_n;
  end loop;

  -- 2. Idle uploads fail with reason `expired` (before step 3, which may then delete them in
  --    the same call when failed_ttl has passed too).
  perform pg_catalog.set_config('upload_lifecycle.deletion_reason', '', true);
  if v_fail_to is not null then
    for v_kind in select k.kind, k.upload_ttl from upload_lifecycle.entity_kinds k order by k.kind loop
      exit when v_expired >= v_batch;
      with idle as (
        select e.id from upload_lifecycle.entities e
        where e.kind = v_kind.kind and e.status = 'uploading'
          and e.status_changed_at <= v_now - v_kind.upload_ttl
          and not exists (select 1 from upload_lifecycle.entity_files f
                          where f.entity_id = e.id and f.created_at > v_now - v_kind.upload_ttl)
          and not exists (select 1 from upload_lifecycle.entity_files f
                          join storage.objects o on o.bucket_id = f.bucket_id and o.name = f.object_path
                          where f.entity_id = e.id and o.updated_at > v_now - v_kind.upload_ttl)
        order by e.status_changed_at
        limit v_batch - v_expired
        for update of e skip locked
      )
      update upload_lifecycle.entities e
        set status = v_fail_to, failure_reason = 'expired'
        from idle where e.id = idle.id and e.status = 'uploading';
      get diagnostics v_n = row_count;
      v_expired := v_expired + v_n;
    end loop;
  end if;

  -- 3. Long-failed rows.
  perform pg_catalog.set_config('upload_lifecycle.deletion_reason', 'failed_expired', true);
  for v_kind in select k.kind, k.failed_ttl from upload_lifecycle.entity_kinds k order by k.kind loop
    exit when v_failed >= v_batch;
    with doomed as (
      select e.id from upload_lifecycle.entities e
      where e.kind = v_kind.kind and e.status = 'failed'
        and e.status_changed_at <= v_now - v_kind.failed_ttl
      order by e.status_changed_at
      limit v_batch - v_failed
      for update skip locked
    )
    delete from upload_lifecycle.entities e using doomed d where e.id = d.id;
    get diagnostics v_n = row_count;
    v_failed := v_failed + v_n;
  end loop;
  perform pg_catalog.set_config('upload_lifecycle.deletion_reason', '', true);

  -- 4. Orphaned objects.
  v_orphans := upload_lifecycle.sweep_orphans(v_now, v_batch);

  -- 5. Done outbox rows past their retention.
  select s.outbox_retention into v_retention from upload_lifecycle.sweep_state s where s.id;
  with old as (
    select d.id from upload_lifecycle.storage_deletions d
    where d.done_at <= v_now - coalesce(v_retention, interval '7 days')
    order by d.done_at
    limit v_batch
    for update skip locked
  )
  delete from upload_lifecycle.storage_deletions d using old where d.id = old.id;
  get diagnostics v_pruned = row_count;

  return jsonb_build_object(
    'drafts_deleted', v_drafts,
    'uploads_expired', v_expired,
    'failed_deleted', v_failed,
    'outbox_pruned', v_pruned,
    'batch', v_batch
  ) || v_orphans;
end
$$;

revoke all on function public.sweep_upload_lifecycle(timestamptz, integer) from public, anon, authenticated, service_role;
grant execute on function public.sweep_upload_lifecycle(timestamptz, integer) to service_role;

-- public.sweep_upload_lifecycle
-- migrations: 0031_sweep
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
  v_job record;
  v_leases integer := 0;
  v_processing_failed integer := 0;
  v_job_events_pruned integer := 0;
  v_dead_letters_pruned integer := 0;
  v_state upload_lifecycle.sweep_state;
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

  -- 6. Running jobs whose lease expired (their worker stopped heartbeating): back to pending while
  --    runs are left (lease_expired), else failed and buried like a worker's last failure. Entity
  --    first, then job, skipping locked rows: never waits behind a worker's answer.
  for v_job in
    select j.id, j.entity_id from upload_lifecycle.jobs j
    where j.status = 'running' and j.lease_until <= v_now
    order by j.lease_until
    limit v_batch
  loop
    perform 1 from upload_lifecycle.entities e where e.id = v_job.entity_id for update skip locked;
    continue when not found;
    perform 1 from upload_lifecycle.jobs j where j.id = v_job.id and j.status = 'running'
      and j.lease_until <= v_now for update skip locked;
    continue when not found;
    update upload_lifecycle.jobs j
      set status = case when j.attempt < j.max_attempts then 'pending' else 'failed' end::upload_lifecycle.job_status,
          run_after = v_now,
          last_error = jsonb_build_object('code', 'lease_expired', 'message',
            format('the lease of worker %s expired at %s', j.worker_id, j.lease_until))
      where j.id = v_job.id;
    if exists (select 1 from upload_lifecycle.jobs j where j.id = v_job.id and j.status = 'failed') then
      perform upload_lifecycle.bury_job(v_job.id);
    end if;
    v_leases := v_leases + 1;
  end loop;

  -- 7. Processing entities with a dead required job of their attempt fail (fail_upload_job does
  --    it at once; this catches jobs buried by any other path).
  for v_job in
    select distinct e.id from upload_lifecycle.entities e
    join upload_lifecycle.jobs j on j.entity_id = e.id and j.entity_attempt = e.attempt
    where e.status = 'processing' and j.required and j.status = 'dead'
    limit v_batch
  loop
    perform 1 from upload_lifecycle.entities e where e.id = v_job.id and e.status = 'processing'
      for update skip locked;
    continue when not found;
    update upload_lifecycle.entities e
      set status = 'failed', failure_reason = 'processing failed: a required job is dead'
      where e.id = v_job.id;
    v_processing_failed := v_processing_failed + 1;
  end loop;

  -- 8. Job events and dead letters past their retention.
  select * into v_state from upload_lifecycle.sweep_state s where s.id;
  perform pg_catalog.set_config('upload_lifecycle.pruning_job_events', 'on', true);
  with old as (
    select ev.id from upload_lifecycle.job_events ev
    where ev.created_at <= v_now - coalesce(v_state.job_event_retention, interval '30 days')
    order by ev.created_at
    limit v_batch
    for update skip locked
  )
  delete from upload_lifecycle.job_events ev using old where ev.id = old.id;
  get diagnostics v_job_events_pruned = row_count;
  perform pg_catalog.set_config('upload_lifecycle.pruning_job_events', '', true);
  with old as (
    select d.id from upload_lifecycle.failed_jobs d
    where d.failed_at <= v_now - coalesce(v_state.dead_letter_retention, interval '30 days')
    order by d.failed_at
    limit v_batch
    for update skip locked
  )
  delete from upload_lifecycle.failed_jobs d using old where d.id = old.id;
  get diagnostics v_dead_letters_pruned = row_count;

  return jsonb_build_object(
    'drafts_deleted', v_drafts,
    'uploads_expired', v_expired,
    'failed_deleted', v_failed,
    'outbox_pruned', v_pruned,
    'job_leases_expired', v_leases,
    'processing_failed', v_processing_failed,
    'job_events_pruned', v_job_events_pruned,
    'dead_letters_pruned', v_dead_letters_pruned,
    'batch', v_batch
  ) || v_orphans;
end
$$;

revoke all on function public.sweep_upload_lifecycle(timestamptz, integer) from public, anon, authenticated, service_role;
grant execute on function public.sweep_upload_lifecycle(timestamptz, integer) to service_role;

-- upload_lifecycle.sweep_orphans
-- migrations: 0031_sweep
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
        and not exists (select 1 from upload_lifecycle.artifacts a
                        where a.bucket_id = v_bucket and a.object_path = s.name)
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

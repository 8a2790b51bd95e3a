-- public.complete_storage_deletions
-- migrations: 0032_storage_deletion_rpcs
create or replace function public.complete_storage_deletions(ids bigint[])
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_present bigint[];
  v_done integer;
begin
  select coalesce(array_agg(d.id order by d.id), '{}') into v_present
    from upload_lifecycle.storage_deletions d
    where d.id = any (complete_storage_deletions.ids) and d.done_at is null
      and exists (select 1 from storage.objects o where o.bucket_id = d.bucket_id and o.name = d.object_path);
  update upload_lifecycle.storage_deletions d
    set done_at = pg_catalog.now(), last_error = null
    where d.id = any (complete_storage_deletions.ids) and d.done_at is null and not (d.id = any (v_present));
  get diagnostics v_done = row_count;
  if cardinality(v_present) > 0 then
    perform upload_lifecycle.postpone_storage_deletions(v_present,
      'object still present after remove: the worker''s key may not delete it (use the service_role key)');
  end if;
  return jsonb_build_object('completed', v_done, 'still_present', to_jsonb(v_present));
end
$$;
revoke all on function public.complete_storage_deletions(bigint[]) from public, anon, authenticated, service_role;
grant execute on function public.complete_storage_deletions(bigint[]) to service_role;

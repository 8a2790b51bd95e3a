-- public.claim_storage_deletions
-- migrations: 0032_storage_deletion_rpcs
create or replace function public.claim_storage_deletions(batch integer default 1000, lease_seconds integer default 300)
returns table (id bigint, bucket_id text, object_path text, attempts integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  if claim_storage_deletions.batch is null or claim_storage_deletions.batch not between 1 and 1000 then
    raise exception using errcode = 'UL004',
      message = format('batch must be between 1 and 1000, got %s', coalesce(claim_storage_deletions.batch::text, 'null')),
      hint = 'Storage removes at most 1000 objects per call; claim at most that many.';
  end if;
  if claim_storage_deletions.lease_seconds is null or claim_storage_deletions.lease_seconds not between 1 and 86400 then
    raise exception using errcode = 'UL004',
      message = format('lease_seconds must be between 1 and 86400, got %s', coalesce(claim_storage_deletions.lease_seconds::text, 'null')),
      hint = 'Use a lease longer than a remove call takes, such as 300.';
  end if;
  return query
  with due as (
    select d.id, exists (select 1 from upload_lifecycle.entity_files f
                         where f.bucket_id = d.bucket_id and f.object_path = d.object_path) as wanted
    from upload_lifecycle.storage_deletions d
    where d.done_at is null and d.next_attempt_at <= pg_catalog.now()
    order by d.next_attempt_at, d.id
    limit claim_storage_deletions.batch
    for update of d skip locked
  ),
  kept as (
    update upload_lifecycle.storage_deletions d
      set done_at = pg_catalog.now(), last_error = 'not removed: the path belongs to a file row again'
      from due where d.id = due.id and due.wanted
    returning d.id
  ),
  claimed as (
    update upload_lifecycle.storage_deletions d
      set attempts = d.attempts + 1,
          claimed_at = pg_catalog.now(),
          next_attempt_at = pg_catalog.now() + make_interval(secs => claim_storage_deletions.lease_seconds)
      from due where d.id = due.id and not due.wanted
    returning d.id, d.bucket_id, d.object_path, d.attempts
  )
  select c.id, c.bucket_id, c.object_path, c.attempts from claimed c order by c.bucket_id, c.object_path;
end
$$;
revoke all on function public.claim_storage_deletions(integer, integer) from public, anon, authenticated, service_role;
grant execute on function public.claim_storage_deletions(integer, integer) to service_role;

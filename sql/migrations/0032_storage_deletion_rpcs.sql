-- 0032 outbox RPCs: how workers drain storage_deletions (service_role only).
-- Guarantees:
--   * claim_storage_deletions(batch, lease_seconds) hands out at most `batch` (<= 1000, the
--     Storage API's limit per remove) due pending rows, FOR UPDATE SKIP LOCKED, and leases them:
--     attempts + 1, next_attempt_at = now + lease. Two workers never get the same row while its
--     lease runs; a worker that dies lets its rows come back when the lease ends;
--   * a queued path that has a file row again is wanted: it is closed without being handed out;
--   * complete_storage_deletions(ids) closes a row only when its object is really gone from
--     storage.objects. Storage's remove answers an empty list, not an error, for objects the
--     caller may not delete (DESIGN.md §3), so "no error" proves nothing: rows whose object is
--     still there are postponed with an error saying so, and the answer lists them;
--   * fail_storage_deletions(ids, error) postpones rows with exponential backoff (15 s doubling,
--     at most 1 h, ±20 % jitter so workers do not retry in lockstep) and keeps the error.
--   Rows are never given up on: a failing object keeps being retried hourly and stays visible
--   (attempts, last_error) until someone fixes the cause.
create or replace function upload_lifecycle.postpone_storage_deletions(p_ids bigint[], p_error text)
returns integer
language sql
volatile
security definer
set search_path = ''
as $$
  with postponed as (
    update upload_lifecycle.storage_deletions d
      set next_attempt_at = pg_catalog.now()
            + least(interval '1 hour', interval '15 seconds' * power(2, greatest(d.attempts - 1, 0)))
              * (0.8 + 0.4 * random()),
          claimed_at = null,
          last_error = left(coalesce(p_error, 'unknown error'), 1000)
    where d.id = any (p_ids) and d.done_at is null
    returning 1
  )
  select count(*)::integer from postponed
$$;
revoke all on function upload_lifecycle.postpone_storage_deletions(bigint[], text) from public;

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

create or replace function public.fail_storage_deletions(ids bigint[], error text)
returns integer
language sql
volatile
security definer
set search_path = ''
as $$
  select upload_lifecycle.postpone_storage_deletions(ids, error)
$$;

do $$
declare
  f text;
begin
  foreach f in array array[
    'public.claim_storage_deletions(integer, integer)',
    'public.complete_storage_deletions(bigint[])',
    'public.fail_storage_deletions(bigint[], text)'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated, service_role', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end
$$;

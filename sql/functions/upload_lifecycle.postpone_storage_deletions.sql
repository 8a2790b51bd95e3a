-- upload_lifecycle.postpone_storage_deletions
-- migrations: 0032_storage_deletion_rpcs
create or replace function upload_lifecycle.postpone_storage_deletions(p_ids bigint[], p_error text)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_postponed integer;
begin
  update upload_lifecycle.storage_deletions d
    set next_attempt_at = pg_catalog.now()
          + least(interval '1 hour', interval '15 seconds' * power(2, greatest(d.attempts - 1, 0)))
            * (0.8 + 0.4 * random()),
        claimed_at = null,
        last_error = left(coalesce(p_error, 'unknown error'), 1000)
  where d.id = any (p_ids) and d.done_at is null;
  get diagnostics v_postponed = row_count;
  return v_postponed;
end
$$;
revoke all on function upload_lifecycle.postpone_storage_deletions(bigint[], text) from public;

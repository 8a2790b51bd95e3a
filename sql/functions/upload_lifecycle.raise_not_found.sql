-- upload_lifecycle.raise_not_found
-- migrations: 0013_rpc_support
create or replace function upload_lifecycle.raise_not_found(p_what text, p_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using
    errcode = 'UL003',
    message = format('%s %s not found', p_what, coalesce(p_id::text, '(null)')),
    hint = format('Check the id. A %s of another user is reported as not found too.', p_what);
end
$$;
revoke all on function upload_lifecycle.raise_not_found(text, uuid) from public;

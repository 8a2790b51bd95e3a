-- upload_lifecycle.check_idempotent_replay
-- migrations: 0034_client_keys
-- A replay must be the request the key was first used for: same kind, same metadata.
create or replace function upload_lifecycle.check_idempotent_replay(
  p_entity_id uuid, p_key text, p_kind text, p_fingerprint text
)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities;
begin
  select * into v_entity from upload_lifecycle.entities e where e.id = p_entity_id;
  -- Rows from before 0034 have no fingerprint: their kind is still checked.
  if v_entity.kind is distinct from p_kind
     or coalesce(v_entity.idempotency_fingerprint <> p_fingerprint, false) then
    raise exception using errcode = 'UL004',
      message = format('idempotency_key %s was already used with other parameters', p_key),
      detail = format('the key belongs to an upload of kind %s with other metadata', v_entity.kind),
      hint = 'Send the same kind and metadata to repeat a create, or use a new idempotency key for a new upload.';
  end if;
end
$$;
revoke all on function upload_lifecycle.check_idempotent_replay(uuid, text, text, text) from public;

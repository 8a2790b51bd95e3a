-- upload_lifecycle.idempotency_fingerprint
-- migrations: 0034_client_keys
-- The request an idempotency key stands for: kind and metadata as first sent.
create or replace function upload_lifecycle.idempotency_fingerprint(p_kind text, p_metadata jsonb)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return md5(jsonb_build_array(p_kind, coalesce(p_metadata, '{}'::jsonb))::text);
end
$$;
revoke all on function upload_lifecycle.idempotency_fingerprint(text, jsonb) from public;

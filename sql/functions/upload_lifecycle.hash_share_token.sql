-- upload_lifecycle.hash_share_token
-- migrations: 0019_share_tokens
create or replace function upload_lifecycle.hash_share_token(p_token text)
returns bytea
language plpgsql
immutable
set search_path = ''
as $$
begin
  return sha256(convert_to(coalesce(p_token, ''), 'UTF8'));
end
$$;
revoke all on function upload_lifecycle.hash_share_token(text) from public;

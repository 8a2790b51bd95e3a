-- 0019 share tokens: read access to one completed upload for whoever holds the token.
-- Guarantees:
--   * only the owner creates (for a completed entity only, UL005 otherwise) and revokes shares;
--   * the token (244 random bits as 64 hex digits) is returned once and never stored: the table
--     keeps its SHA-256, so a database leak reveals no usable token;
--   * get_shared_upload(token) is the one thing anon may call: it answers the entity's kind,
--     metadata and file list (paths to sign) while the share is neither revoked nor expired, and the
--     same UL003 for an unknown, revoked or expired token. It never answers a signed URL: download
--     URLs are signed on demand by whoever serves the share (e.g. a server with service_role calls
--     createSignedUrl for the listed paths) and never stored;
--   * RLS: owners read their own shares (without the hash); anon and other users see nothing.
create table if not exists upload_lifecycle.share_tokens (
  id uuid primary key default gen_random_uuid(),
  entity_id uuid not null references upload_lifecycle.entities (id) on delete cascade,
  owner_id uuid not null references auth.users (id) on delete cascade,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

create index if not exists share_tokens_entity on upload_lifecycle.share_tokens (entity_id);
create index if not exists share_tokens_owner on upload_lifecycle.share_tokens (owner_id, created_at desc);

alter table upload_lifecycle.share_tokens enable row level security;
revoke all on upload_lifecycle.share_tokens from public, anon, authenticated, service_role;
grant select (id, entity_id, owner_id, created_at, expires_at, revoked_at) on upload_lifecycle.share_tokens to authenticated;
grant select, insert, update, delete on upload_lifecycle.share_tokens to service_role;

drop policy if exists share_tokens_owner_read on upload_lifecycle.share_tokens;
create policy share_tokens_owner_read on upload_lifecycle.share_tokens
  for select to authenticated using (owner_id = (select auth.uid()));

create or replace function upload_lifecycle.hash_share_token(p_token text)
returns bytea
language sql
immutable
set search_path = ''
as $$
  select sha256(convert_to(coalesce(p_token, ''), 'UTF8'))
$$;
revoke all on function upload_lifecycle.hash_share_token(text) from public;

create or replace function public.create_upload_share(entity_id uuid, expires_at timestamptz default null)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(create_upload_share.entity_id, false);
  -- gen_random_uuid() draws from the strong random source; two of them, hyphens dropped, carry
  -- 244 random bits. pgcrypto is not needed (and not always installed).
  v_token text := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  v_share upload_lifecycle.share_tokens;
begin
  if v_entity.status <> 'completed' then
    raise exception using errcode = 'UL005',
      message = format('upload %s is %s: only completed uploads can be shared', v_entity.id, v_entity.status),
      hint = 'Finalize the upload first.';
  end if;
  if create_upload_share.expires_at is not null and create_upload_share.expires_at <= now() then
    raise exception using errcode = 'UL004',
      message = 'expires_at must be in the future',
      hint = 'Pass a future timestamp, or null for a share that lasts until revoked.';
  end if;
  insert into upload_lifecycle.share_tokens (entity_id, owner_id, token_hash, expires_at)
  values (v_entity.id, v_entity.owner_id, upload_lifecycle.hash_share_token(v_token), create_upload_share.expires_at)
  returning * into v_share;
  return jsonb_build_object('share_id', v_share.id, 'entity_id', v_share.entity_id, 'token', v_token,
                            'expires_at', v_share.expires_at);
end
$$;

create or replace function public.revoke_upload_share(share_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  update upload_lifecycle.share_tokens s
    set revoked_at = coalesce(s.revoked_at, now())
    where s.id = revoke_upload_share.share_id and s.owner_id = auth.uid();
  if not found then
    perform upload_lifecycle.raise_not_found('share', revoke_upload_share.share_id);
  end if;
end
$$;

create or replace function public.get_shared_upload(token text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_share upload_lifecycle.share_tokens;
  v_result jsonb;
begin
  select * into v_share from upload_lifecycle.share_tokens s
    where s.token_hash = upload_lifecycle.hash_share_token(get_shared_upload.token)
      and s.revoked_at is null
      and (s.expires_at is null or s.expires_at > now());
  if found then
    select jsonb_build_object(
             'entity_id', e.id,
             'kind', e.kind,
             'metadata', e.metadata,
             'completed_at', e.completed_at,
             'expires_at', v_share.expires_at,
             'files', coalesce((
               select jsonb_agg(jsonb_build_object(
                        'file_id', f.id,
                        'slot', f.slot,
                        'original_name', f.original_name,
                        'size', f.declared_size,
                        'mime', f.declared_mime,
                        'sha256', f.sha256,
                        'bucket_id', f.bucket_id,
                        'object_path', f.object_path) order by f.seq)
               from upload_lifecycle.entity_files f where f.entity_id = e.id), '[]'::jsonb))
      into v_result
      from upload_lifecycle.entities e
      where e.id = v_share.entity_id and e.status = 'completed';
  end if;
  if v_result is null then
    raise exception using errcode = 'UL003', message = 'share not found',
      hint = 'The link is wrong, revoked or expired; ask the owner for a new one.';
  end if;
  return v_result;
end
$$;

revoke all on function public.create_upload_share(uuid, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.create_upload_share(uuid, timestamptz) to authenticated;
revoke all on function public.revoke_upload_share(uuid) from public, anon, authenticated, service_role;
grant execute on function public.revoke_upload_share(uuid) to authenticated;
revoke all on function public.get_shared_upload(text) from public, anon, authenticated, service_role;
grant execute on function public.get_shared_upload(text) to anon, authenticated, service_role;

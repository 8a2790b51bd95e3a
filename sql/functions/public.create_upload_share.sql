-- public.create_upload_share
-- migrations: 0019_share_tokens
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

revoke all on function public.create_upload_share(uuid, timestamptz) from public, anon, authenticated, service_role;
grant execute on function public.create_upload_share(uuid, timestamptz) to authenticated;

comment on function public.create_upload_share(uuid, timestamptz) is
$c$Creates a share token for a completed upload of the caller. The token is answered once and stored only as a hash.
@type UploadShare { share_id: string; entity_id: string; token: string; expires_at: string | null }
@returns UploadShare$c$;

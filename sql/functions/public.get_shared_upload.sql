-- public.get_shared_upload
-- migrations: 0019_share_tokens
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
revoke all on function public.get_shared_upload(text) from public, anon, authenticated, service_role;
grant execute on function public.get_shared_upload(text) to anon, authenticated, service_role;

comment on function public.get_shared_upload(text) is
$c$Reads a shared completed upload by its token (anon may call it). Sign download URLs for the listed paths on demand.
@type SharedUpload { entity_id: string; kind: string; metadata: { [key: string]: Json | undefined }; completed_at: string; expires_at: string | null; files: SharedUploadFile[] }
@type SharedUploadFile { file_id: string; slot: string; original_name: string; size: number; mime: string; sha256: string | null; bucket_id: string; object_path: string }
@returns SharedUpload$c$;

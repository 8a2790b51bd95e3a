-- public.revoke_upload_share
-- migrations: 0019_share_tokens
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
revoke all on function public.revoke_upload_share(uuid) from public, anon, authenticated, service_role;
grant execute on function public.revoke_upload_share(uuid) to authenticated;
comment on function public.revoke_upload_share(uuid) is $c$Revokes an own share token.$c$;

-- public.finalize_upload
-- migrations: 0017_finalize_upload
create or replace function public.finalize_upload(entity_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(finalize_upload.entity_id, true);
  v_problems text;
begin
  if v_entity.status in ('processing', 'completed') then
    return upload_lifecycle.upload_state(v_entity.id);
  end if;
  if v_entity.status <> 'uploading' then
    perform upload_lifecycle.apply_event(v_entity, 'finalize'); -- raises UL001 with the allowed events
  end if;
  select string_agg(p, E'\n') into v_problems
    from upload_lifecycle.completion_problems(v_entity.id, false) as p;
  if v_problems is not null then
    raise exception using
      errcode = 'UL002',
      message = format('upload %s cannot be completed: requirements not met', v_entity.id),
      detail = v_problems,
      hint = 'Upload the missing files (or fix the listed ones), then call finalize_upload again.';
  end if;
  update upload_lifecycle.entity_files f set verified_at = now() where f.entity_id = v_entity.id;
  -- The jobs of this attempt, in this transaction: with a required one the entity waits in
  -- `processing` (apply_event picks the row by guard), else it completes now.
  perform upload_lifecycle.create_jobs(v_entity.id);
  perform upload_lifecycle.apply_event(v_entity, 'finalize');
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;

revoke all on function public.finalize_upload(uuid) from public, anon, authenticated, service_role;
grant execute on function public.finalize_upload(uuid) to authenticated, service_role;
comment on function public.finalize_upload(uuid) is
$c$uploading → processing (the kind has required processors: their jobs are created) or completed, after verifying every file in Storage (UL002 with the problems otherwise); idempotent.
@returns UploadState$c$;

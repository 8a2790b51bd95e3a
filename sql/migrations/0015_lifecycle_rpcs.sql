-- 0015 lifecycle RPCs: begin_upload, fail_upload, retry_upload, get_upload_state, delete_upload.
-- Guarantees: each locks the caller's own entity FOR UPDATE (UL003, identical for missing and
-- foreign ids), applies exactly its lifecycle event (UL001 when the current status has none, UL006
-- when retries are used up) and answers the UploadState. Who may call what follows the `actors`
-- column of the lifecycle: begin and retry are the owner's, fail is also service_role's. The audit
-- event is written by the trigger of 0006, never by hand, so there is exactly one per transition.
-- delete_upload removes the caller's own non-completed entity (files cascade; the deletion outbox
-- of a later migration queues their objects); a completed entity is final (UL005).
create or replace function public.begin_upload(entity_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(begin_upload.entity_id, false);
begin
  perform upload_lifecycle.apply_event(v_entity, 'begin_upload');
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;

create or replace function public.fail_upload(entity_id uuid, reason text default 'client_error')
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_reason text := coalesce(nullif(btrim(fail_upload.reason), ''), 'client_error');
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(fail_upload.entity_id, true);
begin
  if char_length(v_reason) > 500 then
    raise exception using errcode = 'UL004',
      message = format('reason too long: %s characters, at most 500', char_length(v_reason)),
      hint = 'Send a short reason code, such as client_error.';
  end if;
  perform upload_lifecycle.apply_event(v_entity, 'fail', v_reason);
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;

create or replace function public.retry_upload(entity_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(retry_upload.entity_id, false);
begin
  perform upload_lifecycle.apply_event(v_entity, 'retry');
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;

-- A read: no FOR UPDATE, so polling a progress bar never waits behind a finalize.
create or replace function public.get_upload_state(entity_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not exists (
    select 1 from upload_lifecycle.entities e
    where e.id = get_upload_state.entity_id
      and (e.owner_id = auth.uid() or upload_lifecycle.caller_is_service())
  ) then
    perform upload_lifecycle.raise_not_found('upload', get_upload_state.entity_id);
  end if;
  return upload_lifecycle.upload_state(get_upload_state.entity_id);
end
$$;

create or replace function public.delete_upload(entity_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(delete_upload.entity_id, false);
begin
  if v_entity.status = 'completed' then
    raise exception using errcode = 'UL005',
      message = format('upload %s is completed and cannot be deleted by its owner', v_entity.id),
      hint = 'A completed upload is final; ask an administrator to remove it.';
  end if;
  delete from upload_lifecycle.entities e where e.id = v_entity.id;
end
$$;

do $$
declare
  f text;
begin
  foreach f in array array[
    'public.begin_upload(uuid)', 'public.fail_upload(uuid, text)', 'public.retry_upload(uuid)',
    'public.get_upload_state(uuid)', 'public.delete_upload(uuid)'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated, service_role', f);
    execute format('grant execute on function %s to authenticated, service_role', f);
  end loop;
end
$$;

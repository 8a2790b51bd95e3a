-- public.create_upload_draft
-- migrations: 0014_create_upload_draft 0034_client_keys
create or replace function public.create_upload_draft(
  kind text,
  metadata jsonb default '{}'::jsonb,
  idempotency_key text default null,
  files jsonb default null,
  start_upload boolean default false
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_owner uuid := auth.uid();
  v_kind upload_lifecycle.entity_kinds;
  v_metadata jsonb := coalesce(create_upload_draft.metadata, '{}'::jsonb);
  v_key text := create_upload_draft.idempotency_key;
  v_files jsonb := create_upload_draft.files;
  v_entity upload_lifecycle.entities;
  v_id uuid;
  v_unfinished integer;
  v_fingerprint text := upload_lifecycle.idempotency_fingerprint(create_upload_draft.kind, v_metadata);
begin
  if v_owner is null then
    raise exception using errcode = '42501',
      message = 'create_upload_draft needs a signed-in user',
      hint = 'Call it with the user''s access token; the user becomes the owner.';
  end if;

  select * into v_kind from upload_lifecycle.entity_kinds k where k.kind = create_upload_draft.kind;
  if not found then
    raise exception using errcode = 'UL004',
      message = format('unknown kind %s', coalesce(create_upload_draft.kind, '(null)')),
      hint = 'Use one of the kinds in upload_lifecycle.entity_kinds.';
  end if;
  if jsonb_typeof(v_metadata) <> 'object' then
    raise exception using errcode = 'UL004',
      message = format('metadata must be a JSON object, not %s', jsonb_typeof(v_metadata)),
      hint = 'Send metadata as an object such as {"title": "Q3"}.';
  end if;
  if octet_length(v_metadata::text) > v_kind.max_metadata_bytes then
    raise exception using errcode = 'UL004',
      message = format('metadata too large: %s bytes, kind %s allows at most %s',
                       octet_length(v_metadata::text), v_kind.kind, v_kind.max_metadata_bytes),
      hint = 'Keep metadata small; store large content as a file.';
  end if;
  if v_key is not null and char_length(v_key) not between 1 and 200 then
    raise exception using errcode = 'UL004',
      message = 'idempotency_key must be 1 to 200 characters',
      hint = 'Use a UUID generated once per logical upload.';
  end if;
  if v_files is not null and jsonb_typeof(v_files) <> 'array' then
    raise exception using errcode = 'UL004',
      message = 'files must be a JSON array of {key?, slot, filename, size, mime, sha256?}',
      hint = 'Send an array, or leave files out.';
  end if;
  if v_files is not null and jsonb_array_length(v_files) > 0 and not coalesce(create_upload_draft.start_upload, false) then
    raise exception using errcode = 'UL004',
      message = 'files can be registered only together with start_upload => true',
      hint = 'A draft accepts no files: pass start_upload => true, or register files after begin_upload.';
  end if;

  -- One creation at a time per owner and kind: the quota count below cannot be raced.
  perform pg_advisory_xact_lock(hashtextextended(format('upload_lifecycle.create:%s:%s', v_owner, v_kind.kind), 0));

  if v_key is not null then
    select e.id into v_id from upload_lifecycle.entities e
      where e.owner_id = v_owner and e.idempotency_key = v_key;
    if found then
      perform upload_lifecycle.check_idempotent_replay(v_id, v_key, v_kind.kind, v_fingerprint);
      return upload_lifecycle.upload_state(v_id);
    end if;
  end if;

  select count(*) into v_unfinished from (
    select 1 from upload_lifecycle.entities e
    where e.owner_id = v_owner and e.kind = v_kind.kind and e.status <> 'completed'
    limit v_kind.max_unfinished_per_owner
  ) as unfinished;
  if v_unfinished >= v_kind.max_unfinished_per_owner then
    raise exception using errcode = 'UL004',
      message = format('quota reached: at most %s unfinished %s uploads per user',
                       v_kind.max_unfinished_per_owner, v_kind.kind),
      detail = format('limit max_unfinished_per_owner = %s', v_kind.max_unfinished_per_owner),
      hint = 'Finalize, or delete unfinished uploads (drafts, failed ones) before creating another.';
  end if;

  insert into upload_lifecycle.entities as e (kind, owner_id, metadata, idempotency_key, idempotency_fingerprint)
  values (v_kind.kind, v_owner, v_metadata, v_key, case when v_key is not null then v_fingerprint end)
  on conflict (owner_id, idempotency_key) where idempotency_key is not null do nothing
  returning * into v_entity;
  if v_entity.id is null then
    -- Another transaction committed the same key between our check and insert.
    select e.id into v_id from upload_lifecycle.entities e
      where e.owner_id = v_owner and e.idempotency_key = v_key;
    perform upload_lifecycle.check_idempotent_replay(v_id, v_key, v_kind.kind, v_fingerprint);
    return upload_lifecycle.upload_state(v_id);
  end if;

  if coalesce(create_upload_draft.start_upload, false) then
    perform upload_lifecycle.apply_event(v_entity, 'begin_upload');
    select * into v_entity from upload_lifecycle.entities e where e.id = v_entity.id;
    perform upload_lifecycle.register_files(v_entity, v_files);
  end if;

  return upload_lifecycle.upload_state(v_entity.id);
end
$$;

revoke all on function public.create_upload_draft(text, jsonb, text, jsonb, boolean) from public, anon, authenticated, service_role;
grant execute on function public.create_upload_draft(text, jsonb, text, jsonb, boolean) to authenticated, service_role;
comment on function public.create_upload_draft(text, jsonb, text, jsonb, boolean) is
$c$Creates a draft of the caller (same idempotency_key and parameters: same entity; other parameters: UL004); with files and start_upload, begins and registers them in the same call.
@returns UploadState$c$;

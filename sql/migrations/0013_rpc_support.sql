-- 0013 RPC support: the shared steps of every lifecycle RPC, defined once.
-- Guarantees:
--   * lock_entity(id, service_may) returns the entity locked FOR UPDATE only when the caller owns
--     it (or is service_role and the operation allows service); a missing id and another user's id
--     raise the very same UL003 (same message, detail and hint), so existence never leaks. The
--     owner filter is applied before the lock, so a foreign caller never waits on the row either;
--   * apply_event(entity, event) moves the entity along the lifecycle row (from status, event),
--     raising UL001 when the current status has no such event; the guard triggers of 0007 and 0008
--     still run, and the audit trigger of 0006 writes the event;
--   * upload_state(id) is the one JSON shape every RPC answers (docs/rpc.md `UploadState`);
--   * register_file(entity, …) validates input the triggers cannot see (MIME syntax, case) and
--     inserts the file row; 0009's trigger derives bucket and path and enforces the rest (UL004).
-- None of these is executable by API roles: they trust their caller (a public RPC) to be definer.
create or replace function upload_lifecycle.caller_is_service()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(auth.role(), '') = 'service_role'
$$;
revoke all on function upload_lifecycle.caller_is_service() from public;

create or replace function upload_lifecycle.raise_not_found(p_what text, p_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using
    errcode = 'UL003',
    message = format('%s %s not found', p_what, coalesce(p_id::text, '(null)')),
    hint = format('Check the id. A %s of another user is reported as not found too.', p_what);
end
$$;
revoke all on function upload_lifecycle.raise_not_found(text, uuid) from public;

create or replace function upload_lifecycle.lock_entity(p_entity_id uuid, p_service_may boolean)
returns upload_lifecycle.entities
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities;
begin
  select * into v_entity from upload_lifecycle.entities e
    where e.id = p_entity_id
      and (e.owner_id = auth.uid() or (p_service_may and upload_lifecycle.caller_is_service()))
    for update;
  if not found then
    perform upload_lifecycle.raise_not_found('upload', p_entity_id);
  end if;
  return v_entity;
end
$$;
revoke all on function upload_lifecycle.lock_entity(uuid, boolean) from public;

create or replace function upload_lifecycle.apply_event(
  p_entity upload_lifecycle.entities,
  p_event text,
  p_reason text default null
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_to upload_lifecycle.upload_status;
begin
  select t.to_status into v_to from upload_lifecycle.transitions t
    where t.from_status = p_entity.status and t.event = p_event;
  if not found then
    raise exception using
      errcode = 'UL001',
      message = format('forbidden transition: %s is not allowed while %s', p_event, p_entity.status),
      detail = format('upload %s is %s; the lifecycle allows %s from there.', p_entity.id, p_entity.status,
        coalesce((select string_agg(t.event, ', ' order by t.event) from upload_lifecycle.transitions t
                  where t.from_status = p_entity.status), 'nothing')),
      hint = case p_entity.status
               when 'completed' then 'A completed upload is final; create a new one to change it.'
               else 'Read the current state with get_upload_state and follow the lifecycle.' end;
  end if;
  update upload_lifecycle.entities e
    set status = v_to,
        failure_reason = case when p_reason is null then e.failure_reason else p_reason end
    where e.id = p_entity.id;
end
$$;
revoke all on function upload_lifecycle.apply_event(upload_lifecycle.entities, text, text) from public;

-- The answer of every RPC. object_exists / object_matches say, per file, whether finalize would
-- accept the stored object (same rules as completion_problems): a client resumes from this.
create or replace function upload_lifecycle.upload_state(p_entity_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'entity_id', e.id,
    'kind', e.kind,
    'status', e.status,
    'attempt', e.attempt,
    'max_attempts', k.max_attempts,
    'failure_reason', e.failure_reason,
    'metadata', e.metadata,
    'created_at', e.created_at,
    'updated_at', e.updated_at,
    'completed_at', e.completed_at,
    'requirements', coalesce((
      select jsonb_agg(jsonb_build_object(
               'slot', r.slot,
               'min_count', r.min_count,
               'max_count', r.max_count,
               'max_bytes', r.max_bytes,
               'allowed_mime_types', to_jsonb(r.allowed_mime_types)) order by r.slot)
      from upload_lifecycle.file_requirements r where r.kind = e.kind), '[]'::jsonb),
    'files', coalesce((
      select jsonb_agg(jsonb_build_object(
               'file_id', f.id,
               'slot', f.slot,
               'original_name', f.original_name,
               'declared_size', f.declared_size,
               'declared_mime', f.declared_mime,
               'sha256', f.sha256,
               'bucket_id', f.bucket_id,
               'object_path', f.object_path,
               'verified_at', f.verified_at,
               'object_exists', o.id is not null,
               'object_matches', coalesce(
                 o.id is not null
                 and o.owner_id = e.owner_id::text
                 and (o.metadata ->> 'size')::bigint = f.declared_size
                 and upload_lifecycle.mime_allowed(o.metadata ->> 'mimetype', r.allowed_mime_types), false))
             order by f.seq)
      from upload_lifecycle.entity_files f
      join upload_lifecycle.file_requirements r on r.kind = f.kind and r.slot = f.slot
      left join storage.objects o on o.bucket_id = f.bucket_id and o.name = f.object_path
      where f.entity_id = e.id), '[]'::jsonb))
  from upload_lifecycle.entities e
  join upload_lifecycle.entity_kinds k on k.kind = e.kind
  where e.id = p_entity_id
$$;
revoke all on function upload_lifecycle.upload_state(uuid) from public;

create or replace function upload_lifecycle.register_file(
  p_entity upload_lifecycle.entities,
  p_slot text,
  p_filename text,
  p_size bigint,
  p_mime text,
  p_sha256 text
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_mime text := lower(btrim(p_mime));
  v_sha256 text := nullif(lower(btrim(p_sha256)), '');
  v_file upload_lifecycle.entity_files;
begin
  if v_mime !~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$' then
    raise exception using errcode = 'UL004',
      message = format('file type %s is not a MIME type', v_mime),
      hint = 'Send the file''s MIME type, such as application/pdf or image/png.';
  end if;
  insert into upload_lifecycle.entity_files
    (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime, sha256)
  values
    (p_entity.id, p_entity.kind, p_slot, '', '', p_filename, p_size, v_mime, v_sha256)
  returning * into v_file;
  return jsonb_build_object('file_id', v_file.id, 'bucket_id', v_file.bucket_id, 'object_path', v_file.object_path);
end
$$;
revoke all on function upload_lifecycle.register_file(upload_lifecycle.entities, text, text, bigint, text, text) from public;

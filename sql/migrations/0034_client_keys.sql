-- 0034 client keys: every retried write of the upload machine is idempotent by a key the client
-- chose, so a lost answer is harmless.
-- Guarantees:
--   * every file row has a `file_key`, unique within its entity (the client's key, or a random
--     one): the same key for the same entity answers the same registration, never a second row;
--     the same key with another declaration (slot, name, size, type, sha256) is UL004 naming the
--     key. A file key never changes (UL005), for every role;
--   * an idempotency key of `create_upload_draft` is bound to the request it first came with
--     (kind and metadata, fingerprinted at insert): the same key with other parameters is UL004
--     naming the key, instead of answering another kind's entity;
--   * `register_upload_files(entity_id, files)` registers a batch in one transaction (all or
--     nothing; an invalid file names its index), and `start_upload(entity_id, files)` begins the
--     upload and registers its files in one call; replayed after a lost answer, it answers the
--     same state (an entity already uploading only registers what is not registered yet);
--   * every UploadState answer lists each file's `file_key`, so a client restarted with only the
--     entity id lists the files under the keys it gave them.
-- With these, a client that knows its files spends two RPCs per entity (create_upload_draft with
-- files and start_upload, then finalize_upload) and one per extra step.
alter table upload_lifecycle.entity_files
  add column if not exists file_key text not null default gen_random_uuid()::text;
do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint where conname = 'entity_files_file_key_length') then
    alter table upload_lifecycle.entity_files
      add constraint entity_files_file_key_length check (char_length(file_key) between 1 and 200);
  end if;
end
$$;
create unique index if not exists entity_files_entity_file_key
  on upload_lifecycle.entity_files (entity_id, file_key);

alter table upload_lifecycle.entities add column if not exists idempotency_fingerprint text;

create or replace function upload_lifecycle.guard_file_key()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.file_key is distinct from old.file_key then
    raise exception using errcode = 'UL005', message = 'a file''s file_key never changes',
      hint = 'Remove the file and register it again under the new key.';
  end if;
  return new;
end
$$;
revoke all on function upload_lifecycle.guard_file_key() from public;
drop trigger if exists entity_files_key_immutable on upload_lifecycle.entity_files;
create trigger entity_files_key_immutable
  before update of file_key on upload_lifecycle.entity_files
  for each row execute function upload_lifecycle.guard_file_key();

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

drop function if exists public.register_upload_file(uuid, text, text, bigint, text, text);
drop function if exists upload_lifecycle.register_file(upload_lifecycle.entities, text, text, bigint, text, text);

-- Registers one file of a locked, uploading entity; with a key already registered, answers that
-- registration when the declaration is the same and refuses it (UL004) when it is not.
create or replace function upload_lifecycle.register_file(
  p_entity upload_lifecycle.entities,
  p_slot text,
  p_filename text,
  p_size bigint,
  p_mime text,
  p_sha256 text,
  p_key text
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
  v_key text := p_key;
  v_file upload_lifecycle.entity_files;
begin
  if v_mime !~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$' then
    raise exception using errcode = 'UL004',
      message = format('file type %s is not a MIME type', v_mime),
      hint = 'Send the file''s MIME type, such as application/pdf or image/png.';
  end if;
  if v_key is not null and char_length(v_key) not between 1 and 200 then
    raise exception using errcode = 'UL004',
      message = 'file_key must be 1 to 200 characters',
      hint = 'Use a key generated once per file, such as a UUID.';
  end if;
  if v_key is not null then
    select * into v_file from upload_lifecycle.entity_files f
      where f.entity_id = p_entity.id and f.file_key = v_key;
    if found then
      if (v_file.slot, v_file.original_name, v_file.declared_size, v_file.declared_mime, v_file.sha256)
         is distinct from (p_slot, p_filename, p_size, v_mime, v_sha256) then
        raise exception using errcode = 'UL004',
          message = format('file_key %s is already registered for another file', v_key),
          detail = format('registered: slot %s, %s, %s bytes, %s', v_file.slot, v_file.original_name,
                          v_file.declared_size, v_file.declared_mime),
          hint = 'Use a new key for a new file; send the same declaration to repeat a registration.';
      end if;
      return jsonb_build_object('file_id', v_file.id, 'bucket_id', v_file.bucket_id,
                                'object_path', v_file.object_path, 'file_key', v_file.file_key);
    end if;
  end if;
  insert into upload_lifecycle.entity_files
    (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime, sha256, file_key)
  values
    (p_entity.id, p_entity.kind, p_slot, '', '', p_filename, p_size, v_mime, v_sha256,
     coalesce(v_key, gen_random_uuid()::text))
  returning * into v_file;
  return jsonb_build_object('file_id', v_file.id, 'bucket_id', v_file.bucket_id,
                            'object_path', v_file.object_path, 'file_key', v_file.file_key);
end
$$;
revoke all on function upload_lifecycle.register_file(upload_lifecycle.entities, text, text, bigint, text, text, text) from public;

-- Registers every file of a JSON array for a locked entity: all or nothing, errors name the index.
create or replace function upload_lifecycle.register_files(p_entity upload_lifecycle.entities, p_files jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_file jsonb;
  v_index integer;
  v_message text;
  v_detail text;
  v_hint text;
begin
  if p_files is null then
    return;
  end if;
  if jsonb_typeof(p_files) <> 'array' then
    raise exception using errcode = 'UL004',
      message = 'files must be a JSON array of {key?, slot, filename, size, mime, sha256?}',
      hint = 'Send an array, or leave files out.';
  end if;
  for v_index in 0 .. jsonb_array_length(p_files) - 1 loop
    v_file := p_files -> v_index;
    begin
      if jsonb_typeof(v_file) <> 'object' then
        raise exception using errcode = 'UL004', message = 'a file must be an object {key?, slot, filename, size, mime, sha256?}';
      end if;
      if coalesce(v_file ->> 'size', '') !~ '^-?[0-9]{1,18}$' then
        raise exception using errcode = 'UL004',
          message = format('size must be a whole number of bytes, not %s', coalesce(v_file ->> 'size', '(missing)')),
          hint = 'Send the file''s size in bytes.';
      end if;
      perform upload_lifecycle.register_file(p_entity, v_file ->> 'slot', v_file ->> 'filename',
        (v_file ->> 'size')::bigint, v_file ->> 'mime', v_file ->> 'sha256', v_file ->> 'key');
    exception when sqlstate 'UL004' then
      get stacked diagnostics v_message = message_text, v_detail = pg_exception_detail, v_hint = pg_exception_hint;
      raise exception using errcode = 'UL004', message = format('files[%s]: %s', v_index, v_message),
        detail = v_detail, hint = v_hint;
    end;
  end loop;
end
$$;
revoke all on function upload_lifecycle.register_files(upload_lifecycle.entities, jsonb) from public;

create or replace function public.register_upload_file(
  entity_id uuid,
  slot text,
  filename text,
  size bigint,
  mime text,
  sha256 text default null,
  file_key text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(register_upload_file.entity_id, false);
begin
  return upload_lifecycle.register_file(v_entity, register_upload_file.slot, register_upload_file.filename,
    register_upload_file.size, register_upload_file.mime, register_upload_file.sha256,
    register_upload_file.file_key);
end
$$;

create or replace function public.register_upload_files(entity_id uuid, files jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(register_upload_files.entity_id, false);
begin
  perform upload_lifecycle.register_files(v_entity, register_upload_files.files);
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;

create or replace function public.start_upload(entity_id uuid, files jsonb default '[]'::jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(start_upload.entity_id, false);
begin
  -- Replayed after a lost answer, the entity is already uploading: register what is missing only.
  if v_entity.status <> 'uploading' then
    perform upload_lifecycle.apply_event(v_entity, 'begin_upload');
    select * into v_entity from upload_lifecycle.entities e where e.id = v_entity.id;
  end if;
  perform upload_lifecycle.register_files(v_entity, start_upload.files);
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;

do $$
declare
  f text;
begin
  foreach f in array array[
    'public.register_upload_file(uuid, text, text, bigint, text, text, text)',
    'public.register_upload_files(uuid, jsonb)',
    'public.start_upload(uuid, jsonb)'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated, service_role', f);
    execute format('grant execute on function %s to authenticated, service_role', f);
  end loop;
end
$$;

-- A replay must be the request the key was first used for: same kind, same metadata.
create or replace function upload_lifecycle.check_idempotent_replay(
  p_entity_id uuid, p_key text, p_kind text, p_fingerprint text
)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities;
begin
  select * into v_entity from upload_lifecycle.entities e where e.id = p_entity_id;
  -- Rows from before 0034 have no fingerprint: their kind is still checked.
  if v_entity.kind is distinct from p_kind
     or coalesce(v_entity.idempotency_fingerprint <> p_fingerprint, false) then
    raise exception using errcode = 'UL004',
      message = format('idempotency_key %s was already used with other parameters', p_key),
      detail = format('the key belongs to an upload of kind %s with other metadata', v_entity.kind),
      hint = 'Send the same kind and metadata to repeat a create, or use a new idempotency key for a new upload.';
  end if;
end
$$;
revoke all on function upload_lifecycle.check_idempotent_replay(uuid, text, text, text) from public;

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

-- Every answer lists the file keys.
create or replace function upload_lifecycle.upload_state(p_entity_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
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
                 'file_key', f.file_key,
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
  );
end
$$;

-- verify_setup knows the new RPCs.
create or replace function upload_lifecycle.verify_setup()
returns table (check_name text, ok boolean, detail text)
language sql
stable
security definer
set search_path = ''
as $$
  with
  tables as (
    select c.oid, c.relname, c.relrowsecurity
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'upload_lifecycle' and c.relkind in ('r', 'p')
  ),
  expected_triggers(tbl, tgname) as (
    values ('entities', 'entities_guard_insert'), ('entities', 'entities_guard_update'),
           ('entities', 'entities_completion_check'), ('entities', 'entities_audit'),
           ('entity_files', 'entity_files_guard'), ('entity_events', 'entity_events_append_only'),
           ('entity_kinds', 'entity_kinds_bucket'), ('file_requirements', 'file_requirements_bucket')
  ),
  -- name, arguments, executable by anon, by authenticated, by service_role
  rpcs(name, args, anon, authenticated, service) as (
    values ('create_upload_draft', 'text, jsonb, text, jsonb, boolean', false, true, true),
           ('begin_upload', 'uuid', false, true, true),
           ('register_upload_file', 'uuid, text, text, bigint, text, text, text', false, true, true),
           ('register_upload_files', 'uuid, jsonb', false, true, true),
           ('start_upload', 'uuid, jsonb', false, true, true),
           ('remove_upload_file', 'uuid, uuid', false, true, true),
           ('finalize_upload', 'uuid', false, true, true),
           ('fail_upload', 'uuid, text', false, true, true),
           ('retry_upload', 'uuid', false, true, true),
           ('get_upload_state', 'uuid', false, true, true),
           ('delete_upload', 'uuid', false, true, true),
           ('create_upload_share', 'uuid, timestamp with time zone', false, true, false),
           ('revoke_upload_share', 'uuid', false, true, false),
           ('get_shared_upload', 'text', true, true, true)
  ),
  rpc_procs as (
    select r.*, p.oid as proc
    from rpcs r
    left join pg_catalog.pg_proc p
      on p.pronamespace = 'public'::regnamespace and p.proname = r.name
     and pg_catalog.oidvectortypes(p.proargtypes) = r.args
  ),
  -- Helpers RLS policies call: the querying role must be able to execute them.
  policy_helpers(name) as (
    values ('is_lifecycle_bucket'), ('caller_may_write_object'), ('object_is_final')
  ),
  definers as (
    select p.oid, n.nspname, p.proname, p.proconfig
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.prosecdef and (n.nspname = 'upload_lifecycle'
                           or (n.nspname = 'public' and p.proname in (select name from rpcs)))
  ),
  expected_policies(polname) as (
    values ('upload_lifecycle_insert'), ('upload_lifecycle_insert_gate'), ('upload_lifecycle_select'),
           ('upload_lifecycle_select_gate'), ('upload_lifecycle_update'), ('upload_lifecycle_delete'),
           ('upload_lifecycle_final_gate_update'), ('upload_lifecycle_final_gate_delete')
  ),
  kind_buckets as (
    select k.kind, k.bucket_id, b.id as found, b.public, b.file_size_limit, b.allowed_mime_types,
           (select max(r.max_bytes) from upload_lifecycle.file_requirements r where r.kind = k.kind) as want_limit,
           (select array_agg(distinct m order by m) from upload_lifecycle.file_requirements r,
                   unnest(r.allowed_mime_types) m where r.kind = k.kind) as want_types
    from upload_lifecycle.entity_kinds k left join storage.buckets b on b.id = k.bucket_id
  )
  select * from (
    select format('rls: upload_lifecycle.%s', t.relname), t.relrowsecurity,
           case when t.relrowsecurity then 'row level security is enabled'
                else format('run: alter table upload_lifecycle.%I enable row level security', t.relname) end
    from tables t
    union all
    select 'rls: storage.objects', c.relrowsecurity,
           case when c.relrowsecurity then 'row level security is enabled' else 'enable row level security on storage.objects' end
    from pg_catalog.pg_class c where c.oid = 'storage.objects'::regclass
    union all
    select format('trigger: upload_lifecycle.%s %s', e.tbl, e.tgname), coalesce(tg.tgenabled <> 'D', false),
           case when tg.oid is null then 'missing: re-apply the migrations'
                when tg.tgenabled = 'D' then format('disabled: alter table upload_lifecycle.%I enable trigger %I', e.tbl, e.tgname)
                else 'present and enabled' end
    from expected_triggers e
    left join pg_catalog.pg_trigger tg
      on tg.tgname = e.tgname and tg.tgrelid = pg_catalog.to_regclass('upload_lifecycle.' || e.tbl)
    union all
    -- 0022: the objects of a completed entity can be neither replaced nor removed.
    select 'trigger: storage.objects upload_lifecycle_guard_object', coalesce(tg.tgenabled <> 'D', false),
           case when tg.oid is null then 'missing: re-apply the migrations'
                when tg.tgenabled = 'D' then 'disabled: alter table storage.objects enable trigger upload_lifecycle_guard_object'
                else 'present and enabled' end
    from (values (1)) as one(x)
    left join pg_catalog.pg_trigger tg
      on tg.tgname = 'upload_lifecycle_guard_object' and tg.tgrelid = 'storage.objects'::regclass
    union all
    select 'grant: anon has no privilege on lifecycle tables',
           not exists (select 1 from tables t
                       where pg_catalog.has_table_privilege('anon', t.oid, 'select,insert,update,delete,truncate,references,trigger')),
           coalesce('revoke all from anon on: ' || (select string_agg(t.relname, ', ' order by t.relname) from tables t
                       where pg_catalog.has_table_privilege('anon', t.oid, 'select,insert,update,delete,truncate,references,trigger')),
                    'anon has none')
    union all
    select 'grant: authenticated cannot write lifecycle tables directly',
           not exists (select 1 from tables t
                       where pg_catalog.has_table_privilege('authenticated', t.oid, 'insert,update,delete,truncate')),
           coalesce('revoke insert, update, delete, truncate from authenticated on: '
                    || (select string_agg(t.relname, ', ' order by t.relname) from tables t
                        where pg_catalog.has_table_privilege('authenticated', t.oid, 'insert,update,delete,truncate')),
                    'writes go through the RPCs')
    union all
    select format('rpc: public.%s(%s)', r.name, r.args),
           r.proc is not null
             and pg_catalog.has_function_privilege('anon', r.proc, 'execute') = r.anon
             and pg_catalog.has_function_privilege('authenticated', r.proc, 'execute') = r.authenticated
             and pg_catalog.has_function_privilege('service_role', r.proc, 'execute') = r.service,
           case when r.proc is null then 'missing: re-apply the migrations'
                else format('execute: anon %s (want %s), authenticated %s (want %s), service_role %s (want %s)',
                            pg_catalog.has_function_privilege('anon', r.proc, 'execute'), r.anon,
                            pg_catalog.has_function_privilege('authenticated', r.proc, 'execute'), r.authenticated,
                            pg_catalog.has_function_privilege('service_role', r.proc, 'execute'), r.service) end
    from rpc_procs r
    union all
    select format('search_path: %s.%s', d.nspname, d.proname), coalesce('search_path=""' = any (d.proconfig), false),
           case when coalesce('search_path=""' = any (d.proconfig), false) then 'search_path is pinned to ''''' 
                else 'a SECURITY DEFINER function must set search_path = ''''' end
    from definers d
    union all
    select 'grant: security definer helpers are not callable by API users',
           not exists (select 1 from definers d
                       where d.nspname = 'upload_lifecycle' and d.proname not in (select name from policy_helpers)
                         and (pg_catalog.has_function_privilege('anon', d.oid, 'execute')
                              or pg_catalog.has_function_privilege('authenticated', d.oid, 'execute'))),
           coalesce('revoke execute from public, anon, authenticated on: '
                    || (select string_agg(distinct d.proname, ', ') from definers d
                        where d.nspname = 'upload_lifecycle' and d.proname not in (select name from policy_helpers)
                          and (pg_catalog.has_function_privilege('anon', d.oid, 'execute')
                               or pg_catalog.has_function_privilege('authenticated', d.oid, 'execute'))),
                    'only RLS policy helpers are')
    union all
    select format('policy: storage.objects %s', e.polname), p.oid is not null,
           case when p.oid is null then 'missing: re-apply 0018_storage_policies.sql' else 'present' end
    from expected_policies e
    left join pg_catalog.pg_policy p on p.polname = e.polname and p.polrelid = 'storage.objects'::regclass
    union all
    select format('bucket: %s (kind %s)', b.bucket_id, b.kind),
           b.found is not null and not b.public
             and b.file_size_limit is not distinct from b.want_limit
             and b.allowed_mime_types is not null and b.want_types is not null
             and b.allowed_mime_types @> b.want_types and b.allowed_mime_types <@ b.want_types,
           case when b.found is null then 'missing: select upload_lifecycle.sync_kind_bucket(kind)'
                when b.public then 'the bucket is public: objects would be readable without policies'
                when b.want_types is null then 'the kind has no file requirements'
                else format('file_size_limit %s (want %s), allowed_mime_types %s (want %s)',
                            coalesce(b.file_size_limit::text, 'none'), b.want_limit,
                            coalesce(b.allowed_mime_types::text, 'any'), b.want_types) end
    from kind_buckets b
    union all
    select 'schedule: sweep_upload_lifecycle', s.ok, s.detail from upload_lifecycle.sweep_schedule_check() s
  ) as checks(check_name, ok, detail)
$$;
revoke all on function upload_lifecycle.verify_setup() from public;
grant execute on function upload_lifecycle.verify_setup() to service_role;

-- The RPC answers, declared for the type generator (see 0021).
comment on function upload_lifecycle.upload_state(uuid) is
$c$The UploadState JSON of docs/rpc.md, answered by every lifecycle RPC.
@type UploadState { entity_id: string; kind: string; status: "draft" | "uploading" | "completed" | "failed"; attempt: number; max_attempts: number; failure_reason: string | null; metadata: { [key: string]: Json | undefined }; created_at: string; updated_at: string; completed_at: string | null; requirements: UploadStateRequirement[]; files: UploadStateFile[] }
@type UploadStateRequirement { slot: string; min_count: number; max_count: number; max_bytes: number; allowed_mime_types: string[] }
@type UploadStateFile { file_id: string; file_key: string; slot: string; original_name: string; declared_size: number; declared_mime: string; sha256: string | null; bucket_id: string; object_path: string; verified_at: string | null; object_exists: boolean; object_matches: boolean }$c$;
comment on function upload_lifecycle.register_file(upload_lifecycle.entities, text, text, bigint, text, text, text) is
$c$Registers one file of a locked entity, idempotent by file key; the answer of register_upload_file.
@type RegisteredFile { file_id: string; bucket_id: string; object_path: string; file_key: string }$c$;
comment on function public.create_upload_draft(text, jsonb, text, jsonb, boolean) is
$c$Creates a draft of the caller (same idempotency_key and parameters: same entity; other parameters: UL004); with files and start_upload, begins and registers them in the same call.
@returns UploadState$c$;
comment on function public.register_upload_file(uuid, text, text, bigint, text, text, text) is
$c$Registers a file while uploading (same file_key: same registration); answers where to upload it.
@returns RegisteredFile$c$;
comment on function public.register_upload_files(uuid, jsonb) is
$c$Registers a batch of files while uploading, idempotent by each file's key; all or nothing.
@returns UploadState$c$;
comment on function public.start_upload(uuid, jsonb) is
$c$draft → uploading and the files registered, in one call; a replay registers only what is missing.
@returns UploadState$c$;

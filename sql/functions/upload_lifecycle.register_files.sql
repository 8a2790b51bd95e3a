-- upload_lifecycle.register_files
-- migrations: 0034_client_keys
-- Registers every file of a JSON array for a locked entity: all or nothing, errors name the index.
-- A batch of new, well-formed files (the first call of a client) is one INSERT of every row: the
-- file guard still checks each row as it is inserted, in the order of the array. Anything else — a
-- key already registered or repeated in the batch (replays), a malformed file, a row the guard
-- refuses — goes file by file through register_file, which answers replays and names the index
-- of the file that fails, exactly as the batch would have been refused or answered one by one.
-- One exception block around each path (one subtransaction, not one per file).
create or replace function upload_lifecycle.register_files(p_entity upload_lifecycle.entities, p_files jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_file jsonb;
  v_at integer := 0;
  v_message text;
  v_detail text;
  v_hint text;
  v_batch boolean;
begin
  if p_files is null then
    return;
  end if;
  if jsonb_typeof(p_files) <> 'array' then
    raise exception using errcode = 'UL004',
      message = 'files must be a JSON array of {key?, slot, filename, size, mime, sha256?}',
      hint = 'Send an array, or leave files out.';
  end if;
  if jsonb_array_length(p_files) = 0 then
    return;
  end if;

  -- The batch path: every file an object with a whole size, a MIME type and a valid or no key,
  -- no key twice, none registered yet. The rest of each file is the file guard's to check.
  select coalesce(bool_and(
           jsonb_typeof(a.file) = 'object'
           and coalesce(a.file ->> 'size', '') ~ '^-?[0-9]{1,18}$'
           and coalesce(lower(btrim(a.file ->> 'mime')) ~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$', false)
           and (a.file ->> 'key' is null or char_length(a.file ->> 'key') between 1 and 200)), false)
         and count(a.file ->> 'key') = count(distinct a.file ->> 'key')
         and not exists (
           select 1 from upload_lifecycle.entity_files f
           where f.entity_id = p_entity.id
             and f.file_key in (select b.file ->> 'key' from jsonb_array_elements(p_files) as b(file)))
    into v_batch
    from jsonb_array_elements(p_files) as a(file);
  if v_batch then
    begin
      insert into upload_lifecycle.entity_files
        (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime, sha256, file_key)
      select p_entity.id, p_entity.kind, a.file ->> 'slot', '', '', a.file ->> 'filename',
             (a.file ->> 'size')::bigint, lower(btrim(a.file ->> 'mime')),
             nullif(lower(btrim(a.file ->> 'sha256')), ''), coalesce(a.file ->> 'key', gen_random_uuid()::text)
      from jsonb_array_elements(p_files) with ordinality as a(file, n)
      order by a.n;
      return;
    exception when sqlstate 'UL004' then
      -- Refused by the guard: undone; file by file below names the index.
      null;
    end;
  end if;

  begin
    for v_index in 0 .. jsonb_array_length(p_files) - 1 loop
      v_at := v_index;
      v_file := p_files -> v_index;
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
    end loop;
  exception when sqlstate 'UL004' then
    get stacked diagnostics v_message = message_text, v_detail = pg_exception_detail, v_hint = pg_exception_hint;
    raise exception using errcode = 'UL004', message = format('files[%s]: %s', v_at, v_message),
      detail = v_detail, hint = v_hint;
  end;
end
$$;
revoke all on function upload_lifecycle.register_files(upload_lifecycle.entities, jsonb) from public;

-- upload_lifecycle.register_files
-- migrations: 0034_client_keys
-- Registers every file of a JSON array for a locked entity: all or nothing, errors name the index.
-- One exception block around the whole loop (one subtransaction per call, not one per file): a
-- failure undoes the batch anyway, and v_at still names the file that failed.
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
begin
  if p_files is null then
    return;
  end if;
  if jsonb_typeof(p_files) <> 'array' then
    raise exception using errcode = 'UL004',
      message = 'files must be a JSON array of {key?, slot, filename, size, mime, sha256?}',
      hint = 'Send an array, or leave files out.';
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

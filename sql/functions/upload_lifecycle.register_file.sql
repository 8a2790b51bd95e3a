-- upload_lifecycle.register_file
-- migrations: 0013_rpc_support 0034_client_keys
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
comment on function upload_lifecycle.register_file(upload_lifecycle.entities, text, text, bigint, text, text, text) is
$c$Registers one file of a locked entity, idempotent by file key; the answer of register_upload_file.
@type RegisteredFile { file_id: string; bucket_id: string; object_path: string; file_key: string }$c$;

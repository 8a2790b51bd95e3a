-- upload_lifecycle.register_file
-- migrations: 0013_rpc_support
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

comment on function upload_lifecycle.register_file(upload_lifecycle.entities, text, text, bigint, text, text) is
$c$Registers one file of a locked entity; the answer of register_upload_file.
@type RegisteredFile { file_id: string; bucket_id: string; object_path: string }$c$;

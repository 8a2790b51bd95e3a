-- upload_lifecycle.guard_file_key
-- migrations: 0034_client_keys
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

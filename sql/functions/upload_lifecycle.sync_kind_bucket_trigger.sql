-- upload_lifecycle.sync_kind_bucket_trigger
-- migrations: 0011_kind_buckets
create or replace function upload_lifecycle.sync_kind_bucket_trigger()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    perform upload_lifecycle.sync_kind_bucket(old.kind);
    return null;
  end if;
  if tg_op = 'UPDATE' then
    if old.kind is distinct from new.kind then
      perform upload_lifecycle.sync_kind_bucket(old.kind);
    end if;
  end if;
  perform upload_lifecycle.sync_kind_bucket(new.kind);
  return null;
end
$$;
revoke all on function upload_lifecycle.sync_kind_bucket_trigger() from public;

drop trigger if exists entity_kinds_bucket on upload_lifecycle.entity_kinds;
create trigger entity_kinds_bucket
  after insert or update on upload_lifecycle.entity_kinds
  for each row execute function upload_lifecycle.sync_kind_bucket_trigger();

drop trigger if exists file_requirements_bucket on upload_lifecycle.file_requirements;
create trigger file_requirements_bucket
  after insert or update or delete on upload_lifecycle.file_requirements
  for each row execute function upload_lifecycle.sync_kind_bucket_trigger();

-- upload_lifecycle.guard_entity_file_updates
-- migrations: 0042_file_update_guard
-- The entity side of an UPDATE of entity_files, once per statement over its transition tables:
-- every entity whose files were updated is locked (id order); none may be processing or completed
-- (its files are frozen), and verified_at changes only while uploading — for every role, with the
-- messages the row guard gives (guard_entity_file). Rows whose identity or declaration changed
-- never get here: the row guard refused them before the update.
create or replace function upload_lifecycle.guard_entity_file_updates()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_status upload_lifecycle.upload_status;
begin
  perform 1 from upload_lifecycle.entities e
    where e.id in (select n.entity_id from new_files n)
    order by e.id
    for update;
  select e.id, e.status into v_id, v_status
    from upload_lifecycle.entities e
    where e.id in (select n.entity_id from new_files n) and e.status in ('processing', 'completed')
    order by e.id
    limit 1;
  if found then
    raise exception using errcode = 'UL005',
      message = format('files of %s entity %s cannot change', v_status, v_id),
      hint = case v_status
               when 'processing' then 'The files of a finalized upload are frozen while it is processed.'
               else 'A completed entity is final; create a new entity for new files.' end;
  end if;
  select e.id, e.status into v_id, v_status
    from new_files n
    join old_files o on o.id = n.id
    join upload_lifecycle.entities e on e.id = n.entity_id
    where n.verified_at is distinct from o.verified_at and e.status <> 'uploading'
    order by e.id
    limit 1;
  if found then
    raise exception using errcode = 'UL005',
      message = format('entity %s is %s: files are verified only while uploading', v_id, v_status);
  end if;
  return null;
end
$$;
revoke all on function upload_lifecycle.guard_entity_file_updates() from public;

drop trigger if exists entity_files_guard_updates on upload_lifecycle.entity_files;
create trigger entity_files_guard_updates
  after update on upload_lifecycle.entity_files
  referencing old table as old_files new table as new_files
  for each statement execute function upload_lifecycle.guard_entity_file_updates();

-- upload_lifecycle.check_completion
-- migrations: 0008_completion_check
create or replace function upload_lifecycle.check_completion()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_status upload_lifecycle.upload_status;
  v_problems text;
begin
  -- Re-read: the row may have been deleted later in the transaction.
  select e.status into v_status from upload_lifecycle.entities e where e.id = new.id;
  if v_status is null or v_status not in ('processing', 'completed') then
    return null;
  end if;
  -- Both: requirements met with verified files. `completed`: every required job of the current
  -- attempt complete (processing_problems). `processing`: a required processor applies to one of
  -- its files (the lifecycle's guard ready_for_processing), else there is nothing to wait for.
  select string_agg(p, E'\n') into v_problems
    from (select upload_lifecycle.completion_problems(new.id, true) as p
          union all
          select upload_lifecycle.processing_problems(new.id) where v_status = 'completed'
          union all
          select 'no required processor applies to its files: finalize completes it'
          where v_status = 'processing'
            and not exists (
              select 1 from upload_lifecycle.entity_files f
              join upload_lifecycle.kind_processors p
                on p.kind = f.kind and p.required and (p.slot is null or p.slot = f.slot)
              where f.entity_id = new.id)) problems;
  if v_problems is not null then
    raise exception using
      errcode = 'UL002',
      message = format('entity %s cannot be %s: requirements not met', new.id, v_status),
      detail = v_problems,
      hint = 'Upload the missing files and call finalize_upload; a processing upload completes when its required jobs do.';
  end if;
  return null;
end
$$;
revoke all on function upload_lifecycle.check_completion() from public;

drop trigger if exists entities_completion_check on upload_lifecycle.entities;
create constraint trigger entities_completion_check
  after insert or update on upload_lifecycle.entities
  deferrable initially deferred
  for each row when (new.status::text in ('processing', 'completed'))
  execute function upload_lifecycle.check_completion();

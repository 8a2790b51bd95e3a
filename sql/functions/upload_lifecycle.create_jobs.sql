-- upload_lifecycle.create_jobs
-- migrations: 0039_processing_jobs
-- finalize's jobs: one per file × processor of the kind that applies to the file's slot (a
-- processor declared for the slot wins over one declared for every slot), for the entity's
-- current attempt. Returns how many of them are required. Re-running creates nothing twice.
create or replace function upload_lifecycle.create_jobs(p_entity_id uuid)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_required integer;
begin
  insert into upload_lifecycle.jobs (entity_id, file_id, entity_attempt, processor, required, max_attempts)
  select distinct on (f.id, p.processor) e.id, f.id, e.attempt, p.processor, p.required, p.max_attempts
  from upload_lifecycle.entities e
  join upload_lifecycle.entity_files f on f.entity_id = e.id
  join upload_lifecycle.kind_processors p on p.kind = e.kind and (p.slot is null or p.slot = f.slot)
  where e.id = p_entity_id
  order by f.id, p.processor, p.slot nulls last
  on conflict (file_id, processor, entity_attempt) do nothing;

  select count(*)::integer into v_required
  from upload_lifecycle.jobs j join upload_lifecycle.entities e on e.id = j.entity_id
  where j.entity_id = p_entity_id and j.entity_attempt = e.attempt and j.required;
  return v_required;
end
$$;
revoke all on function upload_lifecycle.create_jobs(uuid) from public;

-- upload_lifecycle.processing_problems
-- migrations: 0039_processing_jobs
-- The one definition of "processed", used by the deferred completion check: for every file of the
-- entity and every required processor of its kind that applies to the file's slot, the job of the
-- entity's current attempt exists and is `complete`. One line per problem.
create or replace function upload_lifecycle.processing_problems(p_entity_id uuid)
returns setof text
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  return query
    select format('file %s (%s): required processor %s %s', f.id, f.original_name, p.processor,
                  coalesce('is ' || j.status::text, 'has no job'))
    from upload_lifecycle.entities e
    join upload_lifecycle.entity_files f on f.entity_id = e.id
    join upload_lifecycle.kind_processors p
      on p.kind = e.kind and p.required and (p.slot is null or p.slot = f.slot)
    left join upload_lifecycle.jobs j
      on j.file_id = f.id and j.processor = p.processor and j.entity_attempt = e.attempt
    where e.id = p_entity_id and j.status is distinct from 'complete'
    order by f.seq, p.processor;
end
$$;
revoke all on function upload_lifecycle.processing_problems(uuid) from public;
grant execute on function upload_lifecycle.processing_problems(uuid) to service_role;

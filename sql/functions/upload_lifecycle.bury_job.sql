-- upload_lifecycle.bury_job
-- migrations: 0039_processing_jobs
-- failed → dead for a job whose entity the caller has locked: the dead-letter row keeps the whole
-- job and its last 50 events as JSONB; a dead required job of the current attempt fails a
-- `processing` entity at once, with a reason naming the file and the processor.
create or replace function upload_lifecycle.bury_job(p_job_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_job upload_lifecycle.jobs;
  v_entity upload_lifecycle.entities;
  v_file upload_lifecycle.entity_files;
begin
  update upload_lifecycle.jobs j set status = 'dead' where j.id = p_job_id returning * into v_job;
  insert into upload_lifecycle.failed_jobs (job_id, entity_id, processor, job, events, error)
  values (v_job.id, v_job.entity_id, v_job.processor, to_jsonb(v_job),
          coalesce((select jsonb_agg(to_jsonb(ev) order by ev.id)
                    from (select * from upload_lifecycle.job_events x where x.job_id = v_job.id
                          order by x.id desc limit 50) ev), '[]'::jsonb),
          v_job.last_error);
  if not v_job.required then
    return;
  end if;
  select * into v_entity from upload_lifecycle.entities e where e.id = v_job.entity_id;
  if v_entity.status = 'processing' and v_entity.attempt = v_job.entity_attempt then
    select * into v_file from upload_lifecycle.entity_files f where f.id = v_job.file_id;
    perform upload_lifecycle.apply_event(v_entity, 'fail', left(format(
      'processing failed: file %s (%s), processor %s: %s', v_file.id, v_file.original_name, v_job.processor,
      coalesce(v_job.last_error ->> 'message', v_job.last_error::text, 'no error given')), 500));
  end if;
end
$$;
revoke all on function upload_lifecycle.bury_job(uuid) from public;

-- upload_lifecycle.transition_guard_holds
-- migrations: 0039_processing_jobs
-- Chooses among the rows of one event (apply_event): the lifecycle's finalize leads to
-- `processing` under ready_for_processing (the current attempt has required jobs) and to
-- `completed` under requirements_met (it has none; the requirements themselves are checked by
-- finalize and at commit). Every other guard is checked where it always was (triggers), so it
-- holds here.
create or replace function upload_lifecycle.transition_guard_holds(p_entity_id uuid, p_guard text)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_has_required boolean;
begin
  if p_guard is null or p_guard not in ('ready_for_processing', 'requirements_met') then
    return true;
  end if;
  select exists (
    select 1 from upload_lifecycle.jobs j join upload_lifecycle.entities e on e.id = j.entity_id
    where j.entity_id = p_entity_id and j.entity_attempt = e.attempt and j.required
  ) into v_has_required;
  return case p_guard when 'ready_for_processing' then v_has_required else not v_has_required end;
end
$$;
revoke all on function upload_lifecycle.transition_guard_holds(uuid, text) from public;

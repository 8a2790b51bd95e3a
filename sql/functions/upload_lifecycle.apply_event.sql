-- upload_lifecycle.apply_event
-- migrations: 0013_rpc_support
create or replace function upload_lifecycle.apply_event(
  p_entity upload_lifecycle.entities,
  p_event text,
  p_reason text default null
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_to upload_lifecycle.upload_status;
begin
  -- One event may have several rows with exclusive guards (finalize → processing | completed).
  select t.to_status into v_to from upload_lifecycle.transitions t
    where t.from_status = p_entity.status and t.event = p_event
      and upload_lifecycle.transition_guard_holds(p_entity.id, t.guard)
    order by t.to_status
    limit 1;
  if not found then
    raise exception using
      errcode = 'UL001',
      message = format('forbidden transition: %s is not allowed while %s', p_event, p_entity.status),
      detail = format('upload %s is %s; the lifecycle allows %s from there.', p_entity.id, p_entity.status,
        coalesce((select string_agg(t.event, ', ' order by t.event) from upload_lifecycle.transitions t
                  where t.from_status = p_entity.status), 'nothing')),
      hint = case p_entity.status
               when 'completed' then 'A completed upload is final; create a new one to change it.'
               else 'Read the current state with get_upload_state and follow the lifecycle.' end;
  end if;
  update upload_lifecycle.entities e
    set status = v_to,
        failure_reason = case when p_reason is null then e.failure_reason else p_reason end
    where e.id = p_entity.id;
end
$$;
revoke all on function upload_lifecycle.apply_event(upload_lifecycle.entities, text, text) from public;

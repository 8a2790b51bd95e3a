-- 0010 function privileges: internal functions are not an API.
-- Guarantees: no function of 0001–0009 is executable by PUBLIC (PostgreSQL grants EXECUTE to
-- PUBLIC by default), so a signed-in user cannot call a SECURITY DEFINER helper such as
-- completion_problems(other_users_entity) and read another tenant's file names. Trigger functions
-- need no EXECUTE to fire. The few helpers a role must evaluate itself (column defaults, RLS policy
-- expressions) are granted back explicitly, here or in the migration that creates them; later
-- migrations revoke from PUBLIC for each function they add, and verify_setup() reports any
-- SECURITY DEFINER function that is still executable by anon or authenticated without being listed.
do $$
declare
  f regprocedure;
begin
  for f in
    -- By name, not the whole schema: re-running this file must not touch later migrations' grants.
    select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'upload_lifecycle'
      and p.proname = any (array['mime_allowed', 'initial_status', 'refuse_audit_change', 'actor_role',
                                 'record_entity_event', 'guard_entity_insert', 'guard_entity_update',
                                 'completion_problems', 'check_completion', 'guard_entity_file'])
  loop
    execute format('revoke all on function %s from public', f);
  end loop;
end
$$;

-- Column default of entities.status and the MIME rule are harmless and needed by direct writers.
grant execute on function upload_lifecycle.initial_status() to authenticated, service_role;
grant execute on function upload_lifecycle.mime_allowed(text, text[]) to authenticated, service_role;
grant execute on function upload_lifecycle.actor_role() to service_role;
-- Workers may diagnose an entity; users go through get_upload_state, which checks ownership.
grant execute on function upload_lifecycle.completion_problems(uuid, boolean) to service_role;

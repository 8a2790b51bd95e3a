-- upload_lifecycle.actor_role
-- migrations: 0006_entity_events
-- Who is acting: the signed-in user's id and JWT role when there are claims, else the database role.
create or replace function upload_lifecycle.actor_role()
returns text
language plpgsql stable
set search_path = ''
as $$
begin
  return coalesce(nullif(auth.jwt() ->> 'role', ''), session_user::text);
end
$$;
revoke all on function upload_lifecycle.actor_role() from public;
grant execute on function upload_lifecycle.actor_role() to service_role;

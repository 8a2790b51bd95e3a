-- upload_lifecycle.initial_status
-- migrations: 0002_lifecycle
create or replace function upload_lifecycle.initial_status()
returns upload_lifecycle.upload_status
language sql immutable
set search_path = ''
as $$ select 'draft'::upload_lifecycle.upload_status $$;
revoke all on function upload_lifecycle.initial_status() from public;

-- Column default of entities.status and the MIME rule are harmless and needed by direct writers.
grant execute on function upload_lifecycle.initial_status() to authenticated, service_role;

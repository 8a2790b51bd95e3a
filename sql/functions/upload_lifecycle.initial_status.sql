-- upload_lifecycle.initial_status
-- migrations: 0002_lifecycle
create or replace function upload_lifecycle.initial_status()
returns upload_lifecycle.upload_status
language plpgsql immutable
set search_path = ''
as $$ begin return 'draft'::upload_lifecycle.upload_status; end $$;
revoke all on function upload_lifecycle.initial_status() from public;

-- Column default of entities.status and the MIME rule are harmless and needed by direct writers.
grant execute on function upload_lifecycle.initial_status() to authenticated, service_role;

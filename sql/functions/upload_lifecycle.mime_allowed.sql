-- upload_lifecycle.mime_allowed
-- migrations: 0001_schema 0024_plan_cached_functions
-- Which MIME types a pattern list allows; `image/*` style wildcards as in Supabase bucket settings.
create or replace function upload_lifecycle.mime_allowed(mime text, allowed text[])
returns boolean
language plpgsql immutable
set search_path = ''
as $$
begin
  return (
    select mime is not null and exists (
      select 1 from unnest(allowed) as a(pattern)
      where lower(a.pattern) = lower(mime)
         or (right(a.pattern, 2) = '/*' and lower(split_part(mime, '/', 1)) = lower(split_part(a.pattern, '/', 1)))
    )
  );
end
$$;
revoke all on function upload_lifecycle.mime_allowed(text, text[]) from public;
grant execute on function upload_lifecycle.mime_allowed(text, text[]) to authenticated, service_role;

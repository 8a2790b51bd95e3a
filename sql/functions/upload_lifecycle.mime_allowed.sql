-- upload_lifecycle.mime_allowed
-- migrations: 0001_schema 0024_plan_cached_functions
-- Which MIME types a pattern list allows; `image/*` style wildcards as in Supabase bucket settings.
-- A loop of expressions rather than a query over unnest(allowed): it runs per file in the file
-- guard, completion_problems and upload_state, and an expression needs no executor (about half
-- the cost per call).
create or replace function upload_lifecycle.mime_allowed(mime text, allowed text[])
returns boolean
language plpgsql immutable
set search_path = ''
as $$
declare
  v_pattern text;
begin
  if mime is null or allowed is null then
    return false;
  end if;
  foreach v_pattern in array allowed loop
    if lower(v_pattern) = lower(mime)
       or (right(v_pattern, 2) = '/*' and lower(split_part(mime, '/', 1)) = lower(split_part(v_pattern, '/', 1))) then
      return true;
    end if;
  end loop;
  return false;
end
$$;
revoke all on function upload_lifecycle.mime_allowed(text, text[]) from public;
grant execute on function upload_lifecycle.mime_allowed(text, text[]) to authenticated, service_role;

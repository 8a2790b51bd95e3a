-- upload_lifecycle.verify_setup
-- migrations: 0020_verify_setup 0034_client_keys
create or replace function upload_lifecycle.verify_setup()
returns table (check_name text, ok boolean, detail text)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with
  tables as (
    select c.oid, c.relname, c.relrowsecurity
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'upload_lifecycle' and c.relkind in ('r', 'p')
  ),
  expected_triggers(tbl, tgname) as (
    values ('entities', 'entities_guard_insert'), ('entities', 'entities_guard_update'),
           ('entities', 'entities_completion_check'), ('entities', 'entities_audit'),
           ('entity_files', 'entity_files_guard'), ('entity_events', 'entity_events_append_only'),
           ('entity_kinds', 'entity_kinds_bucket'), ('file_requirements', 'file_requirements_bucket'),
           ('entities', 'entities_cancel_stale_jobs'), ('jobs', 'jobs_guard'), ('jobs', 'jobs_audit'),
           ('job_events', 'job_events_append_only'), ('artifacts', 'artifacts_queue_objects')
  ),
  -- name, arguments, executable by anon, by authenticated, by service_role
  rpcs(name, args, anon, authenticated, service) as (
    values ('create_upload_draft', 'text, jsonb, text, jsonb, boolean', false, true, true),
           ('begin_upload', 'uuid', false, true, true),
           ('register_upload_file', 'uuid, text, text, bigint, text, text, text', false, true, true),
           ('register_upload_files', 'uuid, jsonb', false, true, true),
           ('start_upload', 'uuid, jsonb', false, true, true),
           ('remove_upload_file', 'uuid, uuid', false, true, true),
           ('finalize_upload', 'uuid', false, true, true),
           ('fail_upload', 'uuid, text', false, true, true),
           ('retry_upload', 'uuid', false, true, true),
           ('get_upload_state', 'uuid', false, true, true),
           ('delete_upload', 'uuid', false, true, true),
           ('create_upload_share', 'uuid, timestamp with time zone', false, true, false),
           ('revoke_upload_share', 'uuid', false, true, false),
           ('get_shared_upload', 'text', true, true, true),
           ('claim_upload_jobs', 'text, integer, integer, text[]', false, false, true),
           ('extend_upload_job_leases', 'text, uuid[], integer', false, false, true),
           ('complete_upload_job', 'uuid, text, jsonb, jsonb', false, false, true),
           ('fail_upload_job', 'uuid, text, jsonb, boolean', false, false, true),
           ('requeue_failed_upload_job', 'uuid', false, false, true)
  ),
  rpc_procs as (
    select r.*, p.oid as proc
    from rpcs r
    left join pg_catalog.pg_proc p
      on p.pronamespace = 'public'::regnamespace and p.proname = r.name
     and pg_catalog.oidvectortypes(p.proargtypes) = r.args
  ),
  -- Helpers RLS policies call: the querying role must be able to execute them.
  policy_helpers(name) as (
    values ('is_lifecycle_bucket'), ('caller_may_write_object'), ('object_is_final'), ('caller_owns_artifact')
  ),
  definers as (
    select p.oid, n.nspname, p.proname, p.proconfig
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.prosecdef and (n.nspname = 'upload_lifecycle'
                           or (n.nspname = 'public' and p.proname in (select name from rpcs)))
  ),
  expected_policies(polname) as (
    values ('upload_lifecycle_insert'), ('upload_lifecycle_insert_gate'), ('upload_lifecycle_select'),
           ('upload_lifecycle_select_gate'), ('upload_lifecycle_update'), ('upload_lifecycle_delete'),
           ('upload_lifecycle_final_gate_update'), ('upload_lifecycle_final_gate_delete')
  ),
  kind_buckets as (
    select k.kind, k.bucket_id, b.id as found, b.public, b.file_size_limit, b.allowed_mime_types,
           (select max(r.max_bytes) from upload_lifecycle.file_requirements r where r.kind = k.kind) as want_limit,
           (select array_agg(distinct m order by m) from upload_lifecycle.file_requirements r,
                   unnest(r.allowed_mime_types) m where r.kind = k.kind) as want_types
    from upload_lifecycle.entity_kinds k left join storage.buckets b on b.id = k.bucket_id
  )
  select * from (
    select format('rls: upload_lifecycle.%s', t.relname), t.relrowsecurity,
           case when t.relrowsecurity then 'row level security is enabled'
                else format('run: alter table upload_lifecycle.%I enable row level security', t.relname) end
    from tables t
    union all
    select 'rls: storage.objects', c.relrowsecurity,
           case when c.relrowsecurity then 'row level security is enabled' else 'enable row level security on storage.objects' end
    from pg_catalog.pg_class c where c.oid = 'storage.objects'::regclass
    union all
    select format('trigger: upload_lifecycle.%s %s', e.tbl, e.tgname), coalesce(tg.tgenabled <> 'D', false),
           case when tg.oid is null then 'missing: re-apply the migrations'
                when tg.tgenabled = 'D' then format('disabled: alter table upload_lifecycle.%I enable trigger %I', e.tbl, e.tgname)
                else 'present and enabled' end
    from expected_triggers e
    left join pg_catalog.pg_trigger tg
      on tg.tgname = e.tgname and tg.tgrelid = pg_catalog.to_regclass('upload_lifecycle.' || e.tbl)
    union all
    -- 0022: the objects of a completed entity can be neither replaced nor removed.
    select 'trigger: storage.objects upload_lifecycle_guard_object', coalesce(tg.tgenabled <> 'D', false),
           case when tg.oid is null then 'missing: re-apply the migrations'
                when tg.tgenabled = 'D' then 'disabled: alter table storage.objects enable trigger upload_lifecycle_guard_object'
                else 'present and enabled' end
    from (values (1)) as one(x)
    left join pg_catalog.pg_trigger tg
      on tg.tgname = 'upload_lifecycle_guard_object' and tg.tgrelid = 'storage.objects'::regclass
    union all
    select 'grant: anon has no privilege on lifecycle tables',
           not exists (select 1 from tables t
                       where pg_catalog.has_table_privilege('anon', t.oid, 'select,insert,update,delete,truncate,references,trigger')),
           coalesce('revoke all from anon on: ' || (select string_agg(t.relname, ', ' order by t.relname) from tables t
                       where pg_catalog.has_table_privilege('anon', t.oid, 'select,insert,update,delete,truncate,references,trigger')),
                    'anon has none')
    union all
    select 'grant: authenticated cannot write lifecycle tables directly',
           not exists (select 1 from tables t
                       where pg_catalog.has_table_privilege('authenticated', t.oid, 'insert,update,delete,truncate')),
           coalesce('revoke insert, update, delete, truncate from authenticated on: '
                    || (select string_agg(t.relname, ', ' order by t.relname) from tables t
                        where pg_catalog.has_table_privilege('authenticated', t.oid, 'insert,update,delete,truncate')),
                    'writes go through the RPCs')
    union all
    select format('rpc: public.%s(%s)', r.name, r.args),
           r.proc is not null
             and pg_catalog.has_function_privilege('anon', r.proc, 'execute') = r.anon
             and pg_catalog.has_function_privilege('authenticated', r.proc, 'execute') = r.authenticated
             and pg_catalog.has_function_privilege('service_role', r.proc, 'execute') = r.service,
           case when r.proc is null then 'missing: re-apply the migrations'
                else format('execute: anon %s (want %s), authenticated %s (want %s), service_role %s (want %s)',
                            pg_catalog.has_function_privilege('anon', r.proc, 'execute'), r.anon,
                            pg_catalog.has_function_privilege('authenticated', r.proc, 'execute'), r.authenticated,
                            pg_catalog.has_function_privilege('service_role', r.proc, 'execute'), r.service) end
    from rpc_procs r
    union all
    select format('search_path: %s.%s', d.nspname, d.proname), coalesce('search_path=""' = any (d.proconfig), false),
           case when coalesce('search_path=""' = any (d.proconfig), false) then 'search_path is pinned to ''''' 
                else 'a SECURITY DEFINER function must set search_path = ''''' end
    from definers d
    union all
    select 'grant: security definer helpers are not callable by API users',
           not exists (select 1 from definers d
                       where d.nspname = 'upload_lifecycle' and d.proname not in (select name from policy_helpers)
                         and (pg_catalog.has_function_privilege('anon', d.oid, 'execute')
                              or pg_catalog.has_function_privilege('authenticated', d.oid, 'execute'))),
           coalesce('revoke execute from public, anon, authenticated on: '
                    || (select string_agg(distinct d.proname, ', ') from definers d
                        where d.nspname = 'upload_lifecycle' and d.proname not in (select name from policy_helpers)
                          and (pg_catalog.has_function_privilege('anon', d.oid, 'execute')
                               or pg_catalog.has_function_privilege('authenticated', d.oid, 'execute'))),
                    'only RLS policy helpers are')
    union all
    select format('policy: storage.objects %s', e.polname), p.oid is not null,
           case when p.oid is null then 'missing: re-apply 0018_storage_policies.sql' else 'present' end
    from expected_policies e
    left join pg_catalog.pg_policy p on p.polname = e.polname and p.polrelid = 'storage.objects'::regclass
    union all
    select format('bucket: %s (kind %s)', b.bucket_id, b.kind),
           b.found is not null and not b.public
             and b.file_size_limit is not distinct from b.want_limit
             and b.allowed_mime_types is not null and b.want_types is not null
             and b.allowed_mime_types @> b.want_types and b.allowed_mime_types <@ b.want_types,
           case when b.found is null then 'missing: select upload_lifecycle.sync_kind_bucket(kind)'
                when b.public then 'the bucket is public: objects would be readable without policies'
                when b.want_types is null then 'the kind has no file requirements'
                else format('file_size_limit %s (want %s), allowed_mime_types %s (want %s)',
                            coalesce(b.file_size_limit::text, 'none'), b.want_limit,
                            coalesce(b.allowed_mime_types::text, 'any'), b.want_types) end
    from kind_buckets b
    union all
    select 'schedule: sweep_upload_lifecycle', s.ok, s.detail from upload_lifecycle.sweep_schedule_check() s
  ) as checks(check_name, ok, detail);
end
$$;
revoke all on function upload_lifecycle.verify_setup() from public;
grant execute on function upload_lifecycle.verify_setup() to service_role;

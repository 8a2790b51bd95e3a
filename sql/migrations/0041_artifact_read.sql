-- 0041 artifact read: owners read their entities' artifacts through Storage.
-- Guarantees:
--   * an artifact's object (a thumbnail a worker stored with the service key, so Storage records
--     no owner) is readable — SELECT, so download and signed URLs — by the owner of its entity, and
--     by nobody else: the restrictive gate of 0018 admits it on the same condition;
--   * nothing else changes: writes to artifacts stay the worker's (service_role), and an owner
--     can neither replace nor delete them (the UPDATE/DELETE policies need owner_id = auth.uid()).

-- @functions

drop policy if exists upload_lifecycle_select on storage.objects;
create policy upload_lifecycle_select on storage.objects
  as permissive for select to authenticated
  using (upload_lifecycle.is_lifecycle_bucket(bucket_id)
         and (owner_id = (select auth.uid())::text
              or upload_lifecycle.caller_owns_artifact(bucket_id, name)));

drop policy if exists upload_lifecycle_select_gate on storage.objects;
create policy upload_lifecycle_select_gate on storage.objects
  as restrictive for select to anon, authenticated
  using (not upload_lifecycle.is_lifecycle_bucket(bucket_id)
         or owner_id = (select auth.uid())::text
         or upload_lifecycle.caller_owns_artifact(bucket_id, name));

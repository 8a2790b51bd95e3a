-- 0018 storage policies: the INSERT policy is the gate of every upload.
-- Supabase's storage server probes an upload by INSERTing the object row as the caller (these
-- policies decide), then writes the real row as service_role, which bypasses RLS. So, in the
-- buckets of entity kinds (other buckets are left to their own policies):
--   * INSERT only at a registered (bucket_id, object_path) of the caller's own `uploading` entity:
--     no object before its file row exists, none in another user's folder, none at an unregistered
--     path, none into a completed (or draft, or failed) entity;
--   * SELECT only the caller's own objects (owner_id = auth.uid());
--   * UPDATE (upsert) and DELETE only of the caller's own objects, and never of a file of a
--     completed entity.
-- The refusals are RESTRICTIVE policies, so a broader permissive policy a project adds for its
-- other buckets cannot open these paths. The checks are SECURITY DEFINER helpers that read the
-- lifecycle tables by index, so they do not depend on the caller's table privileges and cost
-- the same whatever the size of the tables. No trigger here relies on auth.uid().


-- @functions

drop policy if exists upload_lifecycle_insert on storage.objects;
create policy upload_lifecycle_insert on storage.objects
  as permissive for insert to authenticated
  with check (upload_lifecycle.caller_may_write_object(bucket_id, name));

drop policy if exists upload_lifecycle_insert_gate on storage.objects;
create policy upload_lifecycle_insert_gate on storage.objects
  as restrictive for insert to anon, authenticated
  with check (not upload_lifecycle.is_lifecycle_bucket(bucket_id)
              or upload_lifecycle.caller_may_write_object(bucket_id, name));

drop policy if exists upload_lifecycle_select on storage.objects;
create policy upload_lifecycle_select on storage.objects
  as permissive for select to authenticated
  using (owner_id = (select auth.uid())::text and upload_lifecycle.is_lifecycle_bucket(bucket_id));

drop policy if exists upload_lifecycle_select_gate on storage.objects;
create policy upload_lifecycle_select_gate on storage.objects
  as restrictive for select to anon, authenticated
  using (not upload_lifecycle.is_lifecycle_bucket(bucket_id) or owner_id = (select auth.uid())::text);

drop policy if exists upload_lifecycle_update on storage.objects;
create policy upload_lifecycle_update on storage.objects
  as permissive for update to authenticated
  using (owner_id = (select auth.uid())::text
         and upload_lifecycle.is_lifecycle_bucket(bucket_id)
         and not upload_lifecycle.object_is_final(bucket_id, name))
  with check (upload_lifecycle.caller_may_write_object(bucket_id, name));

drop policy if exists upload_lifecycle_delete on storage.objects;
create policy upload_lifecycle_delete on storage.objects
  as permissive for delete to authenticated
  using (owner_id = (select auth.uid())::text
         and upload_lifecycle.is_lifecycle_bucket(bucket_id)
         and not upload_lifecycle.object_is_final(bucket_id, name));

drop policy if exists upload_lifecycle_final_gate_update on storage.objects;
create policy upload_lifecycle_final_gate_update on storage.objects
  as restrictive for update to anon, authenticated
  using (not upload_lifecycle.object_is_final(bucket_id, name))
  with check (not upload_lifecycle.is_lifecycle_bucket(bucket_id)
              or upload_lifecycle.caller_may_write_object(bucket_id, name));

drop policy if exists upload_lifecycle_final_gate_delete on storage.objects;
create policy upload_lifecycle_final_gate_delete on storage.objects
  as restrictive for delete to anon, authenticated
  using (not upload_lifecycle.object_is_final(bucket_id, name));

-- 0034 client keys: every retried write of the upload machine is idempotent by a key the client
-- chose, so a lost answer is harmless.
-- Guarantees:
--   * every file row has a `file_key`, unique within its entity (the client's key, or a random
--     one): the same key for the same entity answers the same registration, never a second row;
--     the same key with another declaration (slot, name, size, type, sha256) is UL004 naming the
--     key. A file key never changes (UL005), for every role;
--   * an idempotency key of `create_upload_draft` is bound to the request it first came with
--     (kind and metadata, fingerprinted at insert): the same key with other parameters is UL004
--     naming the key, instead of answering another kind's entity;
--   * `register_upload_files(entity_id, files)` registers a batch in one transaction (all or
--     nothing; an invalid file names its index), and `start_upload(entity_id, files)` begins the
--     upload and registers its files in one call; replayed after a lost answer, it answers the
--     same state (an entity already uploading only registers what is not registered yet);
--   * every UploadState answer lists each file's `file_key`, so a client restarted with only the
--     entity id lists the files under the keys it gave them.
-- With these, a client that knows its files spends two RPCs per entity (create_upload_draft with
-- files and start_upload, then finalize_upload) and one per extra step.
alter table upload_lifecycle.entity_files
  add column if not exists file_key text not null default gen_random_uuid()::text;
do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint where conname = 'entity_files_file_key_length') then
    alter table upload_lifecycle.entity_files
      add constraint entity_files_file_key_length check (char_length(file_key) between 1 and 200);
  end if;
end
$$;
create unique index if not exists entity_files_entity_file_key
  on upload_lifecycle.entity_files (entity_id, file_key);

alter table upload_lifecycle.entities add column if not exists idempotency_fingerprint text;

drop function if exists public.register_upload_file(uuid, text, text, bigint, text, text);
drop function if exists upload_lifecycle.register_file(upload_lifecycle.entities, text, text, bigint, text, text);

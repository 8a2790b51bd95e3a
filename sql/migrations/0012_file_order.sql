-- 0012 file order: files are listed in the order they were registered.
-- Guarantees: entity_files.seq is a database-assigned, strictly increasing number per registration
-- (identity, never written by clients), so every UploadState lists an entity's files in
-- registration order — for create_upload_draft with `files`, the order of the request, which is how
-- a client matches the answered paths to its local files. created_at cannot do this: every file
-- registered in one transaction has the same now().

alter table upload_lifecycle.entity_files
  add column if not exists seq bigint generated always as identity;

create index if not exists entity_files_entity_seq on upload_lifecycle.entity_files (entity_id, seq);

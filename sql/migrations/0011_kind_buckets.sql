-- 0011 a bucket per kind: Storage enforces the requirements before a byte is stored.
-- Guarantees: every entity kind has a private bucket `entity_kinds.bucket_id` whose
-- `file_size_limit` is the largest `max_bytes` of the kind's slots and whose `allowed_mime_types`
-- is the union of the slots' allowed types (wildcards such as image/* kept, as Supabase buckets
-- accept them). The bucket follows every insert, update and delete of entity_kinds and
-- file_requirements, so it can never drift from the requirements. Buckets are never deleted here:
-- Storage refuses to drop a bucket that still has objects, and old objects belong to the sweep.

-- @functions

-- Kinds declared before this migration (upgrades).
select upload_lifecycle.sync_kind_bucket(k.kind) from upload_lifecycle.entity_kinds k;

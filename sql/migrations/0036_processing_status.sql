-- 0036 processing status: the lifecycle gains `processing` (finalized, waiting for its required
-- processing jobs; src/machines/lifecycle.ts).
-- Guarantees: upload_lifecycle.upload_status has the value `processing`, between `uploading` and
-- `completed`. Alone in its migration: a new enum value cannot be used in the transaction that
-- adds it, and 0037 (generated) uses it.
alter type upload_lifecycle.upload_status add value if not exists 'processing' after 'uploading';

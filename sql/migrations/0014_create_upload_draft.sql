-- 0014 create_upload_draft: metadata first, in one call — optionally files too.
-- Guarantees:
--   * only a signed-in user creates, and always for themself (owner_id = auth.uid());
--   * the kind exists and metadata is a JSON object of at most the kind's max_metadata_bytes (UL004);
--   * the same idempotency_key from the same owner returns the existing entity, never a second row,
--     even when two calls race (unique index + ON CONFLICT);
--   * quota: an owner has at most `max_unfinished_per_owner` unfinished (not completed) entities of
--     a kind; one more is refused with UL004 naming the limit. Creations of one owner and kind are
--     serialised by a transaction-scoped advisory lock so racing calls cannot overshoot, and the
--     count stops at the limit over a partial index, so its cost never grows with the table;
--   * with `files` and `start_upload => true` the entity is created, begun and its files registered
--     in the same transaction: all or nothing, an invalid file names its index (`files[2]: …`).
--     Metadata to first byte is one round trip.

create index if not exists entities_owner_kind_unfinished
  on upload_lifecycle.entities (owner_id, kind) where status <> 'completed';

-- 0035 list uploads: "my drafts", "my failed uploads" — an owner's uploads, newest first, by keyset.
-- Guarantees:
--   * list_uploads(kind, status, after, page_size) answers only the caller's own entities (service:
--     none — it is a per-user list), as the same UploadState every RPC answers, ordered by
--     (created_at desc, id desc) so ties never skip or repeat a row between pages;
--   * paging is by keyset: `after` is the opaque cursor of the previous page's `next`, so a page
--     costs the same however deep it is and rows created meanwhile never shift later pages;
--   * this index serves every filter combination for one owner without sorting.
create index if not exists entities_owner_created_id
  on upload_lifecycle.entities (owner_id, created_at desc, id desc);

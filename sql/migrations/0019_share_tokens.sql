-- 0019 share tokens: read access to one completed upload for whoever holds the token.
-- Guarantees:
--   * only the owner creates (for a completed entity only, UL005 otherwise) and revokes shares;
--   * the token (244 random bits as 64 hex digits) is returned once and never stored: the table
--     keeps its SHA-256, so a database leak reveals no usable token;
--   * get_shared_upload(token) is the one thing anon may call: it answers the entity's kind,
--     metadata and file list (paths to sign) while the share is neither revoked nor expired, and the
--     same UL003 for an unknown, revoked or expired token. It never answers a signed URL: download
--     URLs are signed on demand by whoever serves the share (e.g. a server with service_role calls
--     createSignedUrl for the listed paths) and never stored;
--   * RLS: owners read their own shares (without the hash); anon and other users see nothing.

create table if not exists upload_lifecycle.share_tokens (
  id uuid primary key default gen_random_uuid(),
  entity_id uuid not null references upload_lifecycle.entities (id) on delete cascade,
  owner_id uuid not null references auth.users (id) on delete cascade,
  token_hash bytea not null unique check (octet_length(token_hash) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

create index if not exists share_tokens_entity on upload_lifecycle.share_tokens (entity_id);
create index if not exists share_tokens_owner on upload_lifecycle.share_tokens (owner_id, created_at desc);

alter table upload_lifecycle.share_tokens enable row level security;
revoke all on upload_lifecycle.share_tokens from public, anon, authenticated, service_role;
grant select (id, entity_id, owner_id, created_at, expires_at, revoked_at) on upload_lifecycle.share_tokens to authenticated;
grant select, insert, update, delete on upload_lifecycle.share_tokens to service_role;

drop policy if exists share_tokens_owner_read on upload_lifecycle.share_tokens;
create policy share_tokens_owner_read on upload_lifecycle.share_tokens
  for select to authenticated using (owner_id = (select auth.uid()));

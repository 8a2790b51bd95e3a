import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anon, as, createUser, resetDb, service, sqlstate, user, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';
import { PDF, rejection, rpc, upload, createContractDb } from './support.js';

let db: TestDb;
let alice: string;
let bob: string;
let kind: string;

beforeAll(async () => {
  db = await createContractDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetDb(db);
  alice = await createUser(db);
  bob = await createUser(db);
  ({ kind } = await defineKind(db));
});

interface Share {
  share_id: string;
  entity_id: string;
  token: string;
  expires_at: string | null;
}
interface SharedUpload {
  entity_id: string;
  kind: string;
  metadata: Record<string, unknown>;
  files: { original_name: string; size: number; mime: string; bucket_id: string; object_path: string }[];
}

async function completedEntity(): Promise<string> {
  const state = await rpc(db, user(alice), 'create_upload_draft', {
    kind,
    metadata: { title: 'Q3' },
    files: [PDF],
    start_upload: true,
  });
  await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
  await rpc(db, user(alice), 'finalize_upload', { entity_id: state.entity_id });
  return state.entity_id;
}
const share = (entityId: string, args: Record<string, unknown> = {}, owner = alice) =>
  rpc<Share>(db, user(owner), 'create_upload_share', { entity_id: entityId, ...args });
const read = (token: string) => rpc<SharedUpload>(db, anon, 'get_shared_upload', { token });

describe('sharing a completed upload', () => {
  it('anon reads the entity and its file list with the token, and nothing else', async () => {
    const id = await completedEntity();
    const { token } = await share(id);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const shared = await read(token);
    expect(shared).toMatchObject({ entity_id: id, kind, metadata: { title: 'Q3' } });
    expect(shared.files).toEqual([
      expect.objectContaining({
        original_name: 'report.pdf',
        size: PDF.size,
        mime: PDF.mime,
        bucket_id: 'report-files',
      }),
    ]);
    expect(shared).not.toHaveProperty('signed_url');
    expect(await sqlstate(rpc(db, anon, 'get_upload_state', { entity_id: id }))).toBe('42501');
  });

  it('stores only the SHA-256 of the token, and owners cannot read even that', async () => {
    const id = await completedEntity();
    const { token, share_id } = await share(id);
    const { rows } = await db.query<{ token_hash: Uint8Array }>(
      'select token_hash from upload_lifecycle.share_tokens where id = $1',
      [share_id],
    );
    expect(Buffer.from(rows[0]!.token_hash).toString('hex')).toBe(
      createHash('sha256').update(token).digest('hex'),
    );
    const { rows: columns } = await db.query<{ column_name: string }>(
      `select column_name from information_schema.columns
       where table_schema = 'upload_lifecycle' and table_name = 'share_tokens'`,
    );
    const stored = JSON.stringify(await db.query('select * from upload_lifecycle.share_tokens'));
    expect(stored).not.toContain(token);
    expect(columns.map((c) => c.column_name)).not.toContain('token');
    const error = await as(db, user(alice), (tx) =>
      tx.query('select token_hash from upload_lifecycle.share_tokens'),
    ).catch((e: { code?: string }) => e);
    expect(error).toMatchObject({ code: '42501' });
    const own = await as(db, user(alice), (tx) => tx.query('select id from upload_lifecycle.share_tokens'));
    expect(own.rows).toEqual([{ id: share_id }]);
    const others = await as(db, user(bob), (tx) => tx.query('select id from upload_lifecycle.share_tokens'));
    expect(others.rows).toEqual([]);
  });

  it('an unknown, revoked or expired token is the same UL003', async () => {
    const id = await completedEntity();
    const revoked = await share(id);
    await rpc(db, user(alice), 'revoke_upload_share', { share_id: revoked.share_id });
    const expiring = await share(id, { expires_at: new Date(Date.now() + 60_000).toISOString() });
    await as(db, service, (tx) =>
      tx.query(
        `update upload_lifecycle.share_tokens set expires_at = now() - interval '1 second' where id = $1`,
        [expiring.share_id],
      ),
    );
    const answers = await Promise.all(
      [randomUUID().replaceAll('-', ''), revoked.token, expiring.token, ''].map((t) => rejection(read(t))),
    );
    for (const answer of answers) {
      expect(answer).toMatchObject({ code: 'UL003', message: 'share not found' });
    }
  });

  it('only completed entities can be shared (UL005), only by their owner (UL003)', async () => {
    const uploading = await entityAt(db, kind, alice, 'uploading');
    expect(await sqlstate(share(uploading))).toBe('UL005');
    const id = await completedEntity();
    expect(await sqlstate(share(id, {}, bob))).toBe('UL003');
    expect(await sqlstate(rpc(db, anon, 'create_upload_share', { entity_id: id }))).toBe('42501');
  });

  it('an expiry in the past is refused (UL004)', async () => {
    const id = await completedEntity();
    expect(await sqlstate(share(id, { expires_at: '2000-01-01T00:00:00Z' }))).toBe('UL004');
  });

  it('only the owner revokes; another user’s share id is UL003 like a missing one', async () => {
    const id = await completedEntity();
    const { share_id, token } = await share(id);
    expect(await sqlstate(rpc(db, user(bob), 'revoke_upload_share', { share_id }))).toBe('UL003');
    expect(await sqlstate(rpc(db, user(bob), 'revoke_upload_share', { share_id: randomUUID() }))).toBe(
      'UL003',
    );
    await expect(read(token)).resolves.toMatchObject({ entity_id: id });
  });
});

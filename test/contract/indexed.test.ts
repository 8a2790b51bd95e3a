// "No RPC's cost may grow with the size of the table": every lookup the RPCs and the storage
// policies make is answered by an index. Checked on the plans of those very queries, with enough
// rows (and fresh statistics) that a sequential scan would be the planner's choice without one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { createContractDb } from './support.js';

let db: TestDb;
let owner: string;
let entityId: string;
let kind: string;

beforeAll(async () => {
  db = await createContractDb();
  await resetDb(db);
  ({ kind } = await defineKind(db));
  owner = await createUser(db);
  await db.exec(`
    insert into auth.users (id) select gen_random_uuid() from generate_series(1, 200);
    alter table upload_lifecycle.entities disable trigger user;
    insert into upload_lifecycle.entities (kind, owner_id, status, attempt, idempotency_key, completed_at)
      select '${kind}', u.id, case when g % 3 = 0 then 'completed' else 'uploading' end::upload_lifecycle.upload_status,
             1, 'k' || g, case when g % 3 = 0 then now() end
      from (select id, row_number() over () as r from auth.users) u, generate_series(1, 20) g;
    alter table upload_lifecycle.entities enable trigger user;
    alter table upload_lifecycle.entity_files disable trigger user;
    insert into upload_lifecycle.entity_files (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime)
      select e.id, e.kind, 'document', 'report-files', e.owner_id || '/' || e.id || '/' || gen_random_uuid(), 'a.pdf', 1, 'application/pdf'
      from upload_lifecycle.entities e;
    alter table upload_lifecycle.entity_files enable trigger user;
    insert into upload_lifecycle.share_tokens (entity_id, owner_id, token_hash)
      select e.id, e.owner_id, sha256(convert_to(e.id::text, 'UTF8')) from upload_lifecycle.entities e
      where e.status = 'completed';
    analyze upload_lifecycle.entities;
    analyze upload_lifecycle.entity_files;
    analyze upload_lifecycle.share_tokens;`);
  const { rows } = await db.query<{ id: string }>('select id from upload_lifecycle.entities limit 1');
  entityId = rows[0]!.id;
});
afterAll(async () => {
  await db.close();
});

async function plan(sql: string, params: unknown[]): Promise<string> {
  const { rows } = await db.query<Record<string, string>>(`explain ${sql}`, params);
  return rows.map((r) => Object.values(r)[0]).join('\n');
}

describe('every lookup of the RPCs and policies uses an index', () => {
  it('the table is big enough that a missing index would show as a Seq Scan', async () => {
    const seq = await plan(`select * from upload_lifecycle.entities where metadata = '{"x":1}'`, []);
    expect(seq).toMatch(/Seq Scan on entities/);
  });

  it.each([
    [
      'quota count (create_upload_draft)',
      `select 1 from upload_lifecycle.entities e where e.owner_id = $1 and e.kind = $2 and e.status <> 'completed' limit 50`,
      () => [owner, kind],
      /entities_owner_kind_unfinished/,
    ],
    [
      'idempotency key (create_upload_draft)',
      `select e.id from upload_lifecycle.entities e where e.owner_id = $1 and e.idempotency_key = $2`,
      () => [owner, 'k1'],
      /entities_owner_idempotency_key/,
    ],
    [
      'lock the caller’s entity (every RPC)',
      `select * from upload_lifecycle.entities e where e.id = $1 and e.owner_id = $2 for update`,
      () => [entityId, owner],
      /Index Scan using entities_(pkey|id_kind_key)/,
    ],
    [
      'files of an entity (upload_state, completion_problems)',
      `select * from upload_lifecycle.entity_files f where f.entity_id = $1 order by f.seq`,
      () => [entityId],
      /entity_files_entity/,
    ],
    [
      'file at a storage path (storage policies)',
      `select 1 from upload_lifecycle.entity_files f where f.bucket_id = $1 and f.object_path = $2`,
      () => ['report-files', 'x/y/z'],
      /entity_files_bucket_id_object_path_key/,
    ],
    [
      'share token (get_shared_upload)',
      `select * from upload_lifecycle.share_tokens s where s.token_hash = upload_lifecycle.hash_share_token($1)`,
      () => ['t'],
      /share_tokens_token_hash_key/,
    ],
  ])('%s', async (_, sql, params, index) => {
    const p = await plan(sql, params());
    expect(p).toMatch(index);
    expect(p).not.toMatch(/Seq Scan on (entities|entity_files|share_tokens)/);
  });
});

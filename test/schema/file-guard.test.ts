import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  as,
  createPgliteDb,
  createUser,
  resetDb,
  service,
  sqlstate,
  superuser,
  type TestDb,
} from '../support/db.js';
import { defineKind, registerFile } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';
import type { UploadStatus } from '../../src/machines/lifecycle.js';

let db: TestDb;
let owner: string;
let kind: string;

beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetDb(db);
  owner = await createUser(db);
  ({ kind } = await defineKind(db));
});

describe('files follow their entity', () => {
  it.each<UploadStatus>(['draft', 'failed', 'completed'])(
    'no file can be added while %s (UL005)',
    async (status) => {
      const id = await entityAt(db, kind, owner, status);
      expect(await sqlstate(registerFile(db, id, { slot: 'photos', mime: 'image/png' }))).toBe('UL005');
    },
  );

  it('a file added while uploading gets a derived path: {owner}/{entity}/{file} in the kind’s bucket', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    const file = await registerFile(db, id, { name: '../../etc/passwd.pdf'.replaceAll('/', '_') });
    expect(file.objectPath).toBe(`${owner}/${id}/${file.id}`);
    expect(file.bucketId).toBe('report-files');
  });

  it.each([
    ['unknown slot', { slot: 'nope' }],
    ['size zero', { size: 0 }],
    ['size above max_bytes', { size: 10_001 }],
    ['type not allowed', { mime: 'text/plain' }],
    ['empty name', { name: '' }],
    ['name over 255 bytes', { name: 'é'.repeat(128) }],
    ['name with a path separator', { name: 'a/b.pdf' }],
    ['name with a control character', { name: 'a\u0007.pdf' }],
  ])('refuses %s with UL004', async (_label, file) => {
    const id = await entityAt(db, kind, owner, 'uploading');
    expect(await sqlstate(registerFile(db, id, file))).toBe('UL004');
  });

  it('refuses more files than max_count in a slot with UL004', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    await registerFile(db, id);
    expect(await sqlstate(registerFile(db, id))).toBe('UL004');
  });

  it('a malformed sha256 is refused with UL004', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    const insert = as(db, service, (tx) =>
      tx.query(
        `insert into upload_lifecycle.entity_files (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime, sha256)
         values ($1, $2, 'document', '', '', 'a.pdf', 10, 'application/pdf', 'XYZ')`,
        [id, kind],
      ),
    );
    expect(await sqlstate(insert)).toBe('UL004');
  });

  it('files of a completed entity cannot be changed or removed, even by the superuser', async () => {
    const id = await entityAt(db, kind, owner, 'completed');
    for (const sql of [
      `update upload_lifecycle.entity_files set verified_at = null where entity_id = $1`,
      `update upload_lifecycle.entity_files set original_name = 'x.pdf' where entity_id = $1`,
      `delete from upload_lifecycle.entity_files where entity_id = $1`,
    ]) {
      expect(await sqlstate(as(db, superuser, (tx) => tx.query(sql, [id])))).toBe('UL005');
    }
  });

  it('a file row never changes except verified_at', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    await registerFile(db, id);
    const update = as(db, service, (tx) =>
      tx.query(`update upload_lifecycle.entity_files set declared_size = 1 where entity_id = $1`, [id]),
    );
    expect(await sqlstate(update)).toBe('UL005');
  });

  it('deleting the entity removes its files (cascade), completed or not', async () => {
    const id = await entityAt(db, kind, owner, 'completed');
    await as(db, service, (tx) => tx.query(`delete from upload_lifecycle.entities where id = $1`, [id]));
    const { rows } = await db.query(`select 1 from upload_lifecycle.entity_files where entity_id = $1`, [id]);
    expect(rows).toHaveLength(0);
  });
});

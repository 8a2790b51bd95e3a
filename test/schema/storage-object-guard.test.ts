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
import { defineKind, forceObject, registerFile } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';

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

const removeObjects = (entityId: string) => `
  select set_config('storage.allow_delete_query', 'true', true);
  delete from storage.objects o using upload_lifecycle.entity_files f
  where f.entity_id = '${entityId}' and o.bucket_id = f.bucket_id and o.name = f.object_path;`;

describe('the objects of a completed entity', () => {
  it.each([
    ['service_role', service],
    ['the superuser', superuser],
  ] as const)(
    'cannot be deleted by %s, even with storage.allow_delete_query (UL005)',
    async (_name, actor) => {
      const id = await entityAt(db, kind, owner, 'completed');
      expect(await sqlstate(as(db, actor, (tx) => tx.exec(removeObjects(id))))).toBe('UL005');
    },
  );

  it('cannot be replaced (upsert) by service_role (UL005)', async () => {
    const id = await entityAt(db, kind, owner, 'completed');
    const update = as(db, service, (tx) =>
      tx.query(
        `update storage.objects o set metadata = jsonb_set(o.metadata, '{size}', '1')
         from upload_lifecycle.entity_files f where f.entity_id = $1 and o.bucket_id = f.bucket_id and o.name = f.object_path`,
        [id],
      ),
    );
    expect(await sqlstate(update)).toBe('UL005');
  });

  it('can be removed once the entity itself is deleted (the outbox path)', async () => {
    const id = await entityAt(db, kind, owner, 'completed');
    const { rows: paths } = await db.query<{ bucket_id: string; object_path: string }>(
      `select bucket_id, object_path from upload_lifecycle.entity_files where entity_id = $1`,
      [id],
    );
    await as(db, service, (tx) => tx.query(`delete from upload_lifecycle.entities where id = $1`, [id]));
    await as(db, service, (tx) =>
      tx.exec(`select set_config('storage.allow_delete_query', 'true', true);
               delete from storage.objects where name = '${paths[0]!.object_path}'`),
    );
    const { rows } = await db.query(`select 1 from storage.objects where name = $1`, [paths[0]!.object_path]);
    expect(rows).toHaveLength(0);
  });

  it('while uploading, an object can still be removed (the client replaces a bad file)', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    const file = await registerFile(db, id);
    await forceObject(db, owner, file);
    await as(db, service, (tx) => tx.exec(removeObjects(id)));
    const { rows } = await db.query(`select 1 from storage.objects where name = $1`, [file.objectPath]);
    expect(rows).toHaveLength(0);
  });
});

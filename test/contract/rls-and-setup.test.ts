import { createContractDb } from './support.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anon, as, createUser, resetDb, service, user, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { entityAt } from '../support/lifecycle-paths.js';

let db: TestDb;
let alice: string;
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
  ({ kind } = await defineKind(db));
});

const tables = async () =>
  (
    await db.query<{ name: string; rls: boolean }>(
      `select c.relname as name, c.relrowsecurity as rls from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'upload_lifecycle' and c.relkind in ('r', 'p') order by 1`,
    )
  ).rows;

const verify = async () =>
  (
    await as(db, service, (tx) =>
      tx.query<{ check_name: string; ok: boolean; detail: string }>(
        'select * from upload_lifecycle.verify_setup()',
      ),
    )
  ).rows;

describe('row level security on every table', () => {
  it('every table of schema upload_lifecycle has RLS enabled', async () => {
    const all = await tables();
    expect(all.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'entities',
        'entity_files',
        'entity_events',
        'kind_processors',
        'jobs',
        'job_events',
        'job_transitions',
        'artifacts',
        'failed_jobs',
      ]),
    );
    expect(all.filter((t) => !t.rls).map((t) => t.name)).toEqual([]);
  });

  it('anon sees nothing: no privilege on any table', async () => {
    await entityAt(db, kind, alice, 'completed');
    for (const { name } of await tables()) {
      const error = await as(db, anon, (tx) =>
        tx.query(`select * from upload_lifecycle.${name} limit 1`),
      ).catch((e: { code?: string }) => e);
      expect(error, name).toMatchObject({ code: '42501' });
    }
  });

  it.each([
    ['insert into upload_lifecycle.entities (kind) values ($1)', (k: string) => [k]],
    ["update upload_lifecycle.entities set status = 'completed'", () => []],
    ['delete from upload_lifecycle.entities', () => []],
    [
      "insert into upload_lifecycle.entity_files (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime) select id, kind, 'document', '', '', 'a.pdf', 1, 'application/pdf' from upload_lifecycle.entities",
      () => [],
    ],
    ['update upload_lifecycle.entity_files set verified_at = now()', () => []],
    ['delete from upload_lifecycle.entity_files', () => []],
    ["insert into upload_lifecycle.entity_kinds (kind, bucket_id) values ('x', 'x')", () => []],
    ['update upload_lifecycle.file_requirements set max_bytes = 1', () => []],
    ['delete from upload_lifecycle.transitions', () => []],
    ["insert into upload_lifecycle.kind_processors (kind, processor) values ('report', 'sha256')", () => []],
    ["update upload_lifecycle.jobs set status = 'complete'", () => []],
    ['delete from upload_lifecycle.jobs', () => []],
    ['delete from upload_lifecycle.job_events', () => []],
    ['delete from upload_lifecycle.job_transitions', () => []],
    [
      "insert into upload_lifecycle.artifacts (job_id, entity_id, file_id, variant, bucket_id, object_path, size, content_type) select id, entity_id, file_id, 'v', 'b', 'p', 1, 'image/png' from upload_lifecycle.jobs",
      () => [],
    ],
    ['delete from upload_lifecycle.failed_jobs', () => []],
  ])('a signed-in user has no direct write: %s', async (sql, params) => {
    await entityAt(db, kind, alice, 'uploading');
    const error = await as(db, user(alice), (tx) => tx.query(sql, params(kind))).catch(
      (e: { code?: string }) => e,
    );
    expect(error).toMatchObject({ code: '42501' });
  });

  it('internal SECURITY DEFINER helpers cannot be called by users (no cross-tenant reads)', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    const bob = await createUser(db);
    for (const sql of [
      'select * from upload_lifecycle.completion_problems($1, false)',
      'select upload_lifecycle.upload_state($1)',
      'select upload_lifecycle.lock_entity($1, true)',
    ]) {
      const error = await as(db, user(bob), (tx) => tx.query(sql, [id])).catch((e: { code?: string }) => e);
      expect(error, sql).toMatchObject({ code: '42501' });
    }
  });
});

describe('upload_lifecycle.verify_setup()', () => {
  it('reports every check ok on a freshly migrated database', async () => {
    const checks = await verify();
    expect(checks.length).toBeGreaterThan(30);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.check_name)).toEqual(
      expect.arrayContaining([
        'rls: upload_lifecycle.entities',
        'rls: storage.objects',
        'trigger: upload_lifecycle.entities entities_completion_check',
        'grant: anon has no privilege on lifecycle tables',
        'rpc: public.finalize_upload(uuid)',
        'policy: storage.objects upload_lifecycle_insert',
        `bucket: report-files (kind ${kind})`,
        'schedule: sweep_upload_lifecycle',
      ]),
    );
  });

  const failing = async () => (await verify()).filter((c) => !c.ok).map((c) => c.check_name);

  it('catches a table without RLS', async () => {
    await db.exec('alter table upload_lifecycle.entity_files disable row level security');
    try {
      expect(await failing()).toEqual(['rls: upload_lifecycle.entity_files']);
    } finally {
      await db.exec('alter table upload_lifecycle.entity_files enable row level security');
    }
  });

  it('catches a disabled trigger, a grant too many and a missing policy', async () => {
    await db.exec(`
      alter table upload_lifecycle.entities disable trigger entities_guard_update;
      grant insert on upload_lifecycle.entity_events to authenticated;
      grant execute on function public.finalize_upload(uuid) to anon;
      grant execute on function upload_lifecycle.upload_state(uuid) to authenticated;
      alter policy upload_lifecycle_insert on storage.objects rename to renamed_policy;`);
    try {
      expect((await failing()).sort()).toEqual(
        [
          'grant: authenticated cannot write lifecycle tables directly',
          'grant: security definer helpers are not callable by API users',
          'policy: storage.objects upload_lifecycle_insert',
          'rpc: public.finalize_upload(uuid)',
          'trigger: upload_lifecycle.entities entities_guard_update',
        ].sort(),
      );
    } finally {
      await db.exec(`
        alter table upload_lifecycle.entities enable trigger entities_guard_update;
        revoke insert on upload_lifecycle.entity_events from authenticated;
        revoke execute on function public.finalize_upload(uuid) from anon;
        revoke execute on function upload_lifecycle.upload_state(uuid) from authenticated;
        alter policy renamed_policy on storage.objects rename to upload_lifecycle_insert;`);
    }
  });

  it('catches a disabled storage object guard (0022)', async () => {
    await db.exec('alter table storage.objects disable trigger upload_lifecycle_guard_object');
    try {
      expect(await failing()).toEqual(['trigger: storage.objects upload_lifecycle_guard_object']);
    } finally {
      await db.exec('alter table storage.objects enable trigger upload_lifecycle_guard_object');
    }
  });

  it('catches a bucket whose limits drifted from the requirements', async () => {
    await db.query(`update storage.buckets set file_size_limit = null, public = true`);
    expect(await failing()).toEqual([`bucket: report-files (kind ${kind})`]);
  });

  it('stays all ok after the migrations are applied a second time (they are re-runnable)', async () => {
    await applyMigrations(db);
    expect(await failing()).toEqual([]);
    const alice2 = await createUser(db);
    await expect(
      as(db, user(alice2), (tx) => tx.query(`select public.create_upload_draft(kind => $1)`, [kind])),
    ).resolves.toBeTruthy();
  });

  it('is for service_role and admins, not for API users', async () => {
    const error = await as(db, user(alice), (tx) =>
      tx.query('select * from upload_lifecycle.verify_setup()'),
    ).catch((e: { code?: string }) => e);
    expect(error).toMatchObject({ code: '42501' });
  });
});

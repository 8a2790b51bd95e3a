import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  anon,
  as,
  createUser,
  resetDb,
  service,
  superuser,
  user,
  type Actor,
  type TestDb,
} from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { StorageWriteError } from '../../src/db/storage-write.js';
import { PDF, PNG, rpc, upload, type UploadStateJson, createContractDb } from './support.js';

let db: TestDb;
let alice: string;
let bob: string;
let kind: string;
let bucketId: string;

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
  ({ kind, bucketId } = await defineKind(db));
});

const uploadingWith = (owner: string, files: Record<string, unknown>[]) =>
  rpc(db, user(owner), 'create_upload_draft', { kind, files, start_upload: true });

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageWriteError);
  return error as StorageWriteError;
}

async function completed(owner: string): Promise<UploadStateJson> {
  const state = await uploadingWith(owner, [PDF]);
  await upload(db, owner, state.files[0]!, { size: PDF.size, mime: PDF.mime });
  return rpc(db, user(owner), 'finalize_upload', { entity_id: state.entity_id });
}

const objectCount = async (actor: Actor) =>
  (await as(db, actor, (tx) => tx.query<{ n: number }>('select count(*)::int as n from storage.objects')))
    .rows[0]!.n;

describe('INSERT: only at a registered path of the caller’s own uploading entity', () => {
  it('the owner uploads to a registered path', async () => {
    const state = await uploadingWith(alice, [PDF]);
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
    expect(await objectCount(user(alice))).toBe(1);
  });

  it('refuses an object before its file row exists (a guessed path in the own folder)', async () => {
    const state = await uploadingWith(alice, []);
    const guessed = { bucket_id: bucketId, object_path: `${alice}/${state.entity_id}/${randomUUID()}` };
    expect(await refusal(upload(db, alice, guessed, { size: 10, mime: PDF.mime }))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    });
  });

  it('refuses another user’s registered path (bob into alice’s folder)', async () => {
    const state = await uploadingWith(alice, [PDF]);
    expect((await refusal(upload(db, bob, state.files[0]!, { size: PDF.size, mime: PDF.mime }))).status).toBe(
      403,
    );
  });

  it('refuses an unregistered path, in or out of the owner’s folder', async () => {
    await uploadingWith(alice, [PDF]);
    for (const path of [
      `${alice}/anything.pdf`,
      'public/x.pdf',
      `${alice}/${randomUUID()}/${randomUUID()}`,
    ]) {
      const error = await refusal(
        upload(db, alice, { bucket_id: bucketId, object_path: path }, { size: 10, mime: PDF.mime }),
      );
      expect(error.status, path).toBe(403);
    }
  });

  it.each(['failed', 'completed'] as const)(
    'refuses a registered path once the entity is %s',
    async (status) => {
      const state = await uploadingWith(alice, [PDF, PNG]);
      if (status === 'failed') await rpc(db, user(alice), 'fail_upload', { entity_id: state.entity_id });
      else {
        await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
        await upload(db, alice, state.files[1]!, { size: PNG.size, mime: PNG.mime });
        await rpc(db, user(alice), 'finalize_upload', { entity_id: state.entity_id });
      }
      const file = state.files[status === 'failed' ? 0 : 1]!;
      const error = await refusal(upload(db, alice, file, { size: PNG.size, mime: PNG.mime, upsert: true }));
      expect(error.status).toBe(403);
    },
  );

  it('anon uploads nothing', async () => {
    const state = await uploadingWith(alice, [PDF]);
    const f = state.files[0]!;
    const error = await as(db, anon, (tx) =>
      tx.query(
        `insert into storage.objects (bucket_id, name, owner_id, metadata) values ($1, $2, null, '{}')`,
        [f.bucket_id, f.object_path],
      ),
    ).catch((e: { code?: string }) => e);
    expect(error).toMatchObject({ code: '42501' });
  });
});

describe('SELECT: own objects only', () => {
  it('alice sees her objects; bob and anon see none', async () => {
    await completed(alice);
    expect(await objectCount(user(alice))).toBe(1);
    expect(await objectCount(user(bob))).toBe(0);
    expect(await objectCount(anon)).toBe(0);
  });
});

describe('UPDATE and DELETE: never a completed entity’s files', () => {
  const touch = (actor: Actor, name: string) =>
    as(db, actor, (tx) =>
      tx.query(`update storage.objects set metadata = metadata || '{"x":1}' where name = $1 returning id`, [
        name,
      ]),
    ).then((r) => r.rows.length);
  const remove = (actor: Actor, name: string) =>
    as(db, actor, async (tx) => {
      await tx.query(`select set_config('storage.allow_delete_query', 'true', true)`);
      return (await tx.query(`delete from storage.objects where name = $1 returning id`, [name])).rows.length;
    });

  it('the owner can neither change nor delete the objects of a completed entity', async () => {
    const done = await completed(alice);
    const name = done.files[0]!.object_path;
    expect(await touch(user(alice), name)).toBe(0);
    expect(await remove(user(alice), name)).toBe(0);
    expect(await objectCount(service)).toBe(1);
  });

  it('while uploading, the owner may replace (upsert) or delete an own object; bob may not', async () => {
    const state = await uploadingWith(alice, [PDF]);
    const name = state.files[0]!.object_path;
    await upload(db, alice, state.files[0]!, { size: 1, mime: PDF.mime });
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime, upsert: true });
    expect(await touch(user(bob), name)).toBe(0);
    expect(await remove(user(bob), name)).toBe(0);
    expect(await touch(user(alice), name)).toBe(1);
    expect(await remove(user(alice), name)).toBe(1);
  });

  it('a broad policy a project adds for its own buckets cannot open lifecycle paths', async () => {
    await db.exec(
      `create policy project_wide_open on storage.objects for all to authenticated using (true) with check (true)`,
    );
    try {
      const done = await completed(alice);
      const name = done.files[0]!.object_path;
      expect(await touch(user(alice), name)).toBe(0);
      expect(await remove(user(alice), name)).toBe(0);
      expect(await objectCount(user(bob))).toBe(0);
      // Nor another user's object of an entity still uploading.
      const open = await uploadingWith(alice, [PDF]);
      await upload(db, alice, open.files[0]!, { size: PDF.size, mime: PDF.mime });
      expect(await touch(user(bob), open.files[0]!.object_path)).toBe(0);
      expect(await remove(user(bob), open.files[0]!.object_path)).toBe(0);
      expect(await touch(user(alice), open.files[0]!.object_path)).toBe(1);
      const stray = { bucket_id: bucketId, object_path: `${alice}/stray.pdf` };
      expect((await refusal(upload(db, alice, stray, { size: 10, mime: PDF.mime }))).status).toBe(403);
      // …while the project's policy still works in its own bucket.
      await as(db, superuser, (tx) =>
        tx.query(`insert into storage.buckets (id, name) values ('avatars', 'avatars')`),
      );
      await upload(
        db,
        alice,
        { bucket_id: 'avatars', object_path: 'a.png' },
        { size: 10, mime: 'image/png' },
      );
    } finally {
      await db.exec(`drop policy project_wide_open on storage.objects`);
    }
  });
});

describe('a private bucket per kind, limits from the requirements', () => {
  const bucket = async (id: string) =>
    (
      await db.query<{
        public: boolean;
        file_size_limit: string | null;
        allowed_mime_types: string[] | null;
      }>('select public, file_size_limit::text, allowed_mime_types from storage.buckets where id = $1', [id])
    ).rows[0];

  it('file_size_limit is the largest max_bytes and allowed_mime_types the union', async () => {
    expect(await bucket(bucketId)).toEqual({
      public: false,
      file_size_limit: '10000',
      allowed_mime_types: ['application/pdf', 'image/*'],
    });
  });

  it('follows changes of the requirements and new kinds', async () => {
    await as(db, service, async (tx) => {
      await tx.query(
        `insert into upload_lifecycle.file_requirements (kind, slot, min_count, max_count, max_bytes, allowed_mime_types)
         values ($1, 'video', 0, 1, 50000000, '{video/mp4}')`,
        [kind],
      );
      await tx.query(`delete from upload_lifecycle.file_requirements where kind = $1 and slot = 'photos'`, [
        kind,
      ]);
      await tx.query(
        `insert into upload_lifecycle.entity_kinds (kind, bucket_id) values ('song', 'song-audio')`,
      );
      await tx.query(
        `insert into upload_lifecycle.file_requirements (kind, slot, max_bytes, allowed_mime_types) values ('song', 'master', 99, '{audio/wav}')`,
      );
    });
    expect(await bucket(bucketId)).toEqual({
      public: false,
      file_size_limit: '50000000',
      allowed_mime_types: ['application/pdf', 'video/mp4'],
    });
    expect(await bucket('song-audio')).toEqual({
      public: false,
      file_size_limit: '99',
      allowed_mime_types: ['audio/wav'],
    });
  });

  it('a bucket made public by hand is turned private again on the next requirement change', async () => {
    await db.query(`update storage.buckets set public = true where id = $1`, [bucketId]);
    await as(db, service, (tx) =>
      tx.query(
        `update upload_lifecycle.file_requirements set max_bytes = 20000 where kind = $1 and slot = 'document'`,
        [kind],
      ),
    );
    expect(await bucket(bucketId)).toMatchObject({ public: false, file_size_limit: '20000' });
  });
});

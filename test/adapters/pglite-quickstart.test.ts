/**
 * The README's quick start for the embedded path, as written there: PGlite, the migrations with
 * the Supabase shim, a user in `auth.users`, a kind, the upload machine to `completed` — and the
 * two mistakes a new user makes first, each answered by a typed error: a user that is not in
 * `auth.users`, and a kind that does not exist. Then DISCARD on the real `delete_upload`.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { applyMigrations, createPgliteBackend } from '../../src/adapters/pglite.js';
import {
  InvalidFileError,
  UnknownKindError,
  UnknownUserError,
  deserializeError,
  isUnknownUserError,
} from '../../src/index.js';
import { createUploadMachine } from '../../src/machines/upload.js';

let db: PGlite;
let userId: string;

beforeAll(async () => {
  // --- the README's quick start (embedded PGlite), line for line ---
  db = await PGlite.create();
  await applyMigrations(db, { supabaseShim: true }); // auth.users, storage.*, the API roles
  userId = crypto.randomUUID();
  await db.query('insert into auth.users (id) values ($1)', [userId]); // the signed-in user must exist
  await db.exec(`
    insert into upload_lifecycle.entity_kinds (kind, bucket_id) values ('report', 'reports');
    insert into upload_lifecycle.file_requirements (kind, slot, min_count, max_count, max_bytes, allowed_mime_types)
    values ('report', 'document', 1, 1, 50 * 1024 * 1024, array['application/pdf']);`);
}, 60_000);
afterAll(() => db?.close());

const pdf = new Uint8Array(1000).fill(1);

describe('the embedded (PGlite) quick start', { timeout: 30_000 }, () => {
  it('uploads to a database-confirmed completed', async () => {
    const backend = createPgliteBackend(db, { userId });
    const actor = createActor(createUploadMachine({ backend }), { input: { kind: 'report' } }).start();
    actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body: pdf, name: 'q3.pdf', type: 'application/pdf' }],
    });
    actor.send({ type: 'START' });
    const done = await waitFor(actor, (s) => s.matches('completed'));

    const { rows } = await db.query<{ status: string }>(
      'select status from upload_lifecycle.entities where id = $1',
      [done.context.entityId],
    );
    expect(rows).toEqual([{ status: 'completed' }]);
  });

  it('a userId that is not in auth.users is an UnknownUserError naming the fix, not a raw foreign-key violation', async () => {
    const stranger = crypto.randomUUID();
    const backend = createPgliteBackend(db, { userId: stranger });

    const error = await backend.createDraft({ kind: 'report' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnknownUserError);
    expect(error).toMatchObject({ code: 'UL000', sqlstate: '23503' });
    expect((error as Error).message).toBe(
      `user ${stranger} does not exist in auth.users, so it cannot own an upload`,
    );
    expect((error as UnknownUserError).hint).toContain('insert into auth.users');
  });

  it('the machine keeps the UnknownUserError in its snapshot, and the hook gets the class back', async () => {
    const backend = createPgliteBackend(db, { userId: crypto.randomUUID() });
    const actor = createActor(createUploadMachine({ backend }), { input: { kind: 'report' } }).start();
    actor.send({ type: 'CREATE' });
    const idle = await waitFor(actor, (s) => s.matches('idle') && s.context.error !== null);

    expect(isUnknownUserError(deserializeError(idle.context.error!))).toBe(true);
  });

  it('an unknown kind is an UnknownKindError (UL004, still an InvalidFileError for code that branches on it)', async () => {
    const backend = createPgliteBackend(db, { userId });

    const error = await backend.createDraft({ kind: 'reprot' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnknownKindError);
    expect(error).toBeInstanceOf(InvalidFileError);
    expect(error).toMatchObject({ name: 'UnknownKindError', code: 'UL004', message: 'unknown kind reprot' });
    expect(deserializeError(JSON.parse(JSON.stringify(error)))).toBeInstanceOf(UnknownKindError);
  });

  it('DISCARD of an upload in flight deletes its row through delete_upload and queues its objects', async () => {
    const backend = createPgliteBackend(db, { userId });
    const actor = createActor(createUploadMachine({ backend }), {
      input: { kind: 'report', autoFinalize: false },
    }).start();
    actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body: pdf, name: 'q3.pdf', type: 'application/pdf' }],
    });
    actor.send({ type: 'START' });
    const uploaded = await waitFor(
      actor,
      (s) => s.matches('uploading') && s.context.files.every((f) => f.status === 'uploaded'),
    );
    const entityId = uploaded.context.entityId!;

    actor.send({ type: 'DISCARD' });
    await waitFor(actor, (s) => s.matches('discarded'));

    const entities = await db.query('select 1 from upload_lifecycle.entities where id = $1', [entityId]);
    expect(entities.rows).toEqual([]);
    const queued = await db.query<{ object_path: string; reason: string }>(
      'select object_path, reason from upload_lifecycle.storage_deletions where entity_id = $1',
      [entityId],
    );
    expect(queued.rows).toEqual([
      { object_path: uploaded.context.files[0]!.objectPath, reason: 'entity_deleted' },
    ]);
  });
});

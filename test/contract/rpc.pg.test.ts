// The RPC contract on a real PostgreSQL server (runs when DATABASE_URL is set), with races across
// real connections: what PGlite's single connection cannot show.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { as, createUser, resetDb, service, user } from '../support/db.js';
import { defineKind, eventsOf } from '../support/fixtures.js';
import { createPgDb, hasServer, type PgTestDb } from '../support/pg.js';
import { StorageWriteError } from '../../src/db/storage-write.js';
import {
  EntityNotFoundError,
  InvalidFileError,
  RequirementsNotMetError,
  toUploadLifecycleError,
} from '../../src/errors.js';
import { PDF, PNG, rejection, rpc, upload, type UploadStateJson } from './support.js';

describe.skipIf(!hasServer)('on PostgreSQL 15: the RPC contract', () => {
  let db: PgTestDb;
  let alice: string;
  let bob: string;
  let kind: string;
  beforeAll(async () => {
    db = await createPgDb({ poolSize: 12 });
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await resetDb(db);
    alice = await createUser(db);
    bob = await createUser(db);
    ({ kind } = await defineKind(db));
  });

  it('verify_setup reports every check ok', async () => {
    const { rows } = await as(db, service, (tx) =>
      tx.query<{ check_name: string; ok: boolean }>('select * from upload_lifecycle.verify_setup()'),
    );
    expect(rows.length).toBeGreaterThan(30);
    expect(rows.filter((r) => !r.ok)).toEqual([]);
  });

  it('create with files → upload → finalize, and the errors map to their classes', async () => {
    const state = await rpc(db, user(alice), 'create_upload_draft', {
      kind,
      files: [PDF, PNG],
      start_upload: true,
    });
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
    const unmet = toUploadLifecycleError(
      await rejection(rpc(db, user(alice), 'finalize_upload', { entity_id: state.entity_id })),
    );
    expect(unmet).toBeInstanceOf(RequirementsNotMetError);
    expect((unmet as RequirementsNotMetError).problems).toEqual([
      `file ${state.files[1]!.file_id} (photo.png): not uploaded`,
    ]);
    await upload(db, alice, state.files[1]!, { size: PNG.size, mime: PNG.mime });
    await expect(
      rpc(db, user(alice), 'finalize_upload', { entity_id: state.entity_id }),
    ).resolves.toMatchObject({
      status: 'completed',
    });
    const invalid = await rejection(
      rpc(db, user(alice), 'register_upload_file', { entity_id: state.entity_id, ...PDF, filename: 'a/b' }),
    );
    expect(invalid.code).toBe('UL005'); // completed: accepts no files, before any input check
    const bad = await rpc(db, user(alice), 'create_upload_draft', { kind, start_upload: true });
    const error = toUploadLifecycleError(
      await rejection(
        rpc(db, user(alice), 'register_upload_file', { entity_id: bad.entity_id, ...PDF, filename: 'a/b' }),
      ),
    );
    expect(error).toBeInstanceOf(InvalidFileError);
  });

  it('a foreign id is answered exactly like a missing one', async () => {
    const state = await rpc(db, user(alice), 'create_upload_draft', { kind });
    const missing = randomUUID();
    const foreign = await rejection(rpc(db, user(bob), 'get_upload_state', { entity_id: state.entity_id }));
    const absent = await rejection(rpc(db, user(bob), 'get_upload_state', { entity_id: missing }));
    expect(toUploadLifecycleError(foreign)).toBeInstanceOf(EntityNotFoundError);
    expect([foreign.code, foreign.message.replace(state.entity_id, 'X'), foreign.hint]).toEqual([
      absent.code,
      absent.message.replace(missing, 'X'),
      absent.hint,
    ]);
  });

  it('storage policies refuse bob’s upload into alice’s registered path', async () => {
    const state = await rpc(db, user(alice), 'create_upload_draft', {
      kind,
      files: [PDF],
      start_upload: true,
    });
    const error = await upload(db, bob, state.files[0]!, { size: PDF.size, mime: PDF.mime }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageWriteError);
    expect(error).toMatchObject({ status: 403 });
  });

  describe('races across connections', () => {
    it('8 parallel creates with one idempotency key make one row and all answer it', async () => {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          rpc<UploadStateJson>(db, user(alice), 'create_upload_draft', { kind, idempotency_key: 'same' }),
        ),
      );
      expect(new Set(answers.map((a) => a.entity_id)).size).toBe(1);
      const { rows } = await db.query<{ n: number }>(
        'select count(*)::int as n from upload_lifecycle.entities',
      );
      expect(rows[0]!.n).toBe(1);
    });

    it('the quota holds under 8 parallel creates: exactly max_unfinished_per_owner succeed', async () => {
      await as(db, service, (tx) =>
        tx.query('update upload_lifecycle.entity_kinds set max_unfinished_per_owner = 3 where kind = $1', [
          kind,
        ]),
      );
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => rpc(db, user(alice), 'create_upload_draft', { kind })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      const refusals = results.flatMap((r) =>
        r.status === 'rejected' ? [r.reason as { code: string }] : [],
      );
      expect(refusals.map((r) => r.code)).toEqual(Array(5).fill('UL004'));
    });

    it('two parallel finalizes: both answer completed, one finalize event', async () => {
      const state = await rpc(db, user(alice), 'create_upload_draft', {
        kind,
        files: [PDF],
        start_upload: true,
      });
      await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
      const both = await Promise.all([
        rpc(db, user(alice), 'finalize_upload', { entity_id: state.entity_id }),
        rpc(db, user(alice), 'finalize_upload', { entity_id: state.entity_id }),
      ]);
      expect(both.map((s) => s.status)).toEqual(['completed', 'completed']);
      expect((await eventsOf(db, state.entity_id)).filter((e) => e.event === 'finalize')).toHaveLength(1);
    });

    it('parallel registrations into a max_count = 1 slot: exactly one wins', async () => {
      const state = await rpc(db, user(alice), 'create_upload_draft', { kind, start_upload: true });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          rpc(db, user(alice), 'register_upload_file', {
            entity_id: state.entity_id,
            ...PDF,
            filename: `${i}.pdf`,
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(
        results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : [])),
      ).toEqual(Array(5).fill('UL004'));
    });
  });
});

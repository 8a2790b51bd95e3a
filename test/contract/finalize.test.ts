import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { as, createUser, resetDb, service, sqlstate, user, type TestDb } from '../support/db.js';
import { defineKind, eventsOf, forceObject, statusOfRow } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';
import {
  PDF,
  PNG,
  eventCount,
  rejection,
  rpc,
  upload,
  type UploadStateJson,
  createContractDb,
} from './support.js';

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

/** An uploading entity of alice with the given files registered (nothing uploaded yet). */
async function uploadingWith(files: Record<string, unknown>[]): Promise<UploadStateJson> {
  return rpc(db, user(alice), 'create_upload_draft', { kind, files, start_upload: true });
}
const finalize = (entityId: string, actor = user(alice)) =>
  rpc(db, actor, 'finalize_upload', { entity_id: entityId });

describe('finalize_upload completes only on verified evidence', () => {
  it('with every file uploaded as declared: completed, files verified, one finalize event', async () => {
    const state = await uploadingWith([PDF, PNG]);
    for (const [file, declared] of [
      [state.files[0]!, PDF],
      [state.files[1]!, PNG],
    ] as const) {
      await upload(db, alice, file, { size: declared.size, mime: declared.mime });
    }
    const done = await finalize(state.entity_id);
    expect(done).toMatchObject({ status: 'completed', completed_at: expect.any(String) });
    expect(done.files.every((f) => f.verified_at !== null && f.object_exists && f.object_matches)).toBe(true);
    expect((await eventsOf(db, state.entity_id)).map((e) => e.event)).toEqual([
      'create',
      'begin_upload',
      'finalize',
    ]);
  });

  it('a second finalize answers the completed state: no error, no second audit event', async () => {
    const state = await uploadingWith([PDF]);
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
    const done = await finalize(state.entity_id);
    const events = await eventCount(db, state.entity_id);
    await expect(finalize(state.entity_id)).resolves.toEqual(done);
    expect(await eventCount(db, state.entity_id)).toBe(events);
  });

  it('service_role may finalize (a server-side job); the owner check still applies to users', async () => {
    const state = await uploadingWith([PDF]);
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
    expect(await sqlstate(finalize(state.entity_id, user(bob)))).toBe('UL003');
    await expect(finalize(state.entity_id, service)).resolves.toMatchObject({ status: 'completed' });
  });
});

describe('finalize_upload refuses with UL002, a precise DETAIL, and leaves the entity uploading', () => {
  async function expectRefused(entityId: string, problems: (string | RegExp)[]) {
    const before = await eventCount(db, entityId);
    const error = await rejection(finalize(entityId));
    expect(error.code).toBe('UL002');
    expect(error.hint).toMatch(/finalize_upload again/);
    const lines = (error.detail ?? '').split('\n');
    expect(lines).toHaveLength(problems.length);
    for (const problem of problems) {
      if (typeof problem === 'string') expect(lines).toContain(problem);
      else expect(lines).toContainEqual(expect.stringMatching(problem));
    }
    expect(await statusOfRow(db, entityId)).toBe('uploading');
    expect(await eventCount(db, entityId)).toBe(before);
    const { rows } = await db.query<{ n: number }>(
      'select count(*)::int as n from upload_lifecycle.entity_files where entity_id = $1 and verified_at is not null',
      [entityId],
    );
    expect(rows[0]!.n).toBe(0);
  }

  it('a registered file that was never uploaded', async () => {
    const state = await uploadingWith([PDF]);
    await expectRefused(state.entity_id, [`file ${state.files[0]!.file_id} (report.pdf): not uploaded`]);
  });

  it('a stored size that differs from the declared size', async () => {
    const state = await uploadingWith([PDF]);
    await upload(db, alice, state.files[0]!, { size: 999, mime: PDF.mime });
    await expectRefused(state.entity_id, [
      `file ${state.files[0]!.file_id} (report.pdf): stored size 999, declared 1234`,
    ]);
  });

  it('a stored type the slot does not allow (the bucket allowed it for another slot)', async () => {
    const state = await uploadingWith([PDF]);
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: 'image/png' });
    await expectRefused(state.entity_id, [
      `file ${state.files[0]!.file_id} (report.pdf): stored type image/png not allowed`,
    ]);
  });

  it('too few files in a slot', async () => {
    const state = await uploadingWith([PNG]);
    await upload(db, alice, state.files[0]!, { size: PNG.size, mime: PNG.mime });
    await expectRefused(state.entity_id, ['slot document: 0 file(s), at least 1 required']);
  });

  it('too many files in a slot (the requirement was tightened after registration)', async () => {
    const state = await uploadingWith([PDF, PNG, { ...PNG, filename: 'b.png' }]);
    for (const file of state.files) {
      const declared = file.slot === 'document' ? PDF : PNG;
      await upload(db, alice, file, { size: declared.size, mime: declared.mime });
    }
    await as(db, service, (tx) =>
      tx.query(
        `update upload_lifecycle.file_requirements set max_count = 1 where kind = $1 and slot = 'photos'`,
        [kind],
      ),
    );
    await expectRefused(state.entity_id, ['slot photos: 2 file(s), at most 1 allowed']);
  });

  it('a file above max_bytes (the requirement was tightened after registration)', async () => {
    const state = await uploadingWith([PDF]);
    const f = state.files[0]!;
    await upload(db, alice, f, { size: PDF.size, mime: PDF.mime });
    await as(db, service, (tx) =>
      tx.query(
        `update upload_lifecycle.file_requirements set max_bytes = 1000 where kind = $1 and slot = 'document'`,
        [kind],
      ),
    );
    await expectRefused(state.entity_id, [
      `file ${f.file_id} (report.pdf): 1234 bytes, slot document allows at most 1000`,
    ]);
  });

  it('an object at the path that belongs to another user', async () => {
    const state = await uploadingWith([PDF]);
    const f = state.files[0]!;
    await forceObject(db, bob, {
      id: f.file_id,
      bucketId: f.bucket_id,
      objectPath: f.object_path,
      size: PDF.size,
      mime: PDF.mime,
    });
    await expectRefused(state.entity_id, [`file ${f.file_id} (report.pdf): uploaded by another user`]);
  });

  it('several problems at once, one per line', async () => {
    const state = await uploadingWith([PNG]);
    await upload(db, alice, state.files[0]!, { size: 1, mime: PNG.mime });
    await expectRefused(state.entity_id, [
      /slot document: 0 file/,
      /photo\.png\): stored size 1, declared 800/,
    ]);
  });
});

describe('finalize_upload outside uploading', () => {
  it.each(['draft', 'failed'] as const)(
    'on a %s entity is a forbidden transition (UL001)',
    async (status) => {
      const id = await entityAt(db, kind, alice, status);
      expect(await sqlstate(finalize(id))).toBe('UL001');
      expect(await statusOfRow(db, id)).toBe(status);
    },
  );
});

describe('get_upload_state tells a resuming client what finalize would accept', () => {
  it('object_exists / object_matches per file', async () => {
    const state = await uploadingWith([PDF, PNG, { ...PNG, filename: 'absent.png' }]);
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
    await upload(db, alice, state.files[1]!, { size: 1, mime: PNG.mime });
    const resumed = await rpc(db, user(alice), 'get_upload_state', { entity_id: state.entity_id });
    expect(resumed.files.map((f) => [f.original_name, f.object_exists, f.object_matches])).toEqual([
      ['report.pdf', true, true],
      ['photo.png', true, false],
      ['absent.png', false, false],
    ]);
  });

  it('object_matches is false for a file above its slot’s max_bytes as it stands now, as finalize refuses it', async () => {
    const state = await uploadingWith([PDF]);
    const f = state.files[0]!;
    await upload(db, alice, f, { size: PDF.size, mime: PDF.mime });
    const before = await rpc(db, user(alice), 'get_upload_state', { entity_id: state.entity_id });
    expect(before.files[0]).toMatchObject({ object_exists: true, object_matches: true });
    await as(db, service, (tx) =>
      tx.query(
        `update upload_lifecycle.file_requirements set max_bytes = 1000 where kind = $1 and slot = 'document'`,
        [kind],
      ),
    );
    const after = await rpc(db, user(alice), 'get_upload_state', { entity_id: state.entity_id });
    expect(after.files[0]).toMatchObject({ object_exists: true, object_matches: false });
    expect(await sqlstate(finalize(state.entity_id))).toBe('UL002');
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUser, resetDb, sqlstate, user, type TestDb } from '../support/db.js';
import { defineKind, eventsOf, statusOfRow } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';
import { PDF, PNG, rejection, rpc, upload, type RegisteredFileJson, createContractDb } from './support.js';

let db: TestDb;
let alice: string;
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
  ({ kind, bucketId } = await defineKind(db));
});

const register = (entityId: string, file: Record<string, unknown>) =>
  rpc<RegisteredFileJson>(db, user(alice), 'register_upload_file', { entity_id: entityId, ...file });

describe('file keys: registration is idempotent by a client key', () => {
  it('the same key with the same declaration answers the same registration, never a second row', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    const first = await register(id, { ...PDF, file_key: 'f1' });
    const again = await register(id, { ...PDF, file_key: 'f1' });
    expect(again).toEqual(first);
    expect(first.file_key).toBe('f1');
    const state = await rpc(db, user(alice), 'get_upload_state', { entity_id: id });
    expect(state.files.map((f) => f.file_key)).toEqual(['f1']);
  });

  it('the same key with another declaration is UL004 naming the key; the row stays as it was', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    await register(id, { ...PDF, file_key: 'f1' });
    const error = await rejection(register(id, { ...PDF, size: PDF.size + 1, file_key: 'f1' }));
    expect(error).toMatchObject({
      code: 'UL004',
      message: 'file_key f1 is already registered for another file',
    });
    const state = await rpc(db, user(alice), 'get_upload_state', { entity_id: id });
    expect(state.files.map((f) => f.declared_size)).toEqual([PDF.size]);
  });

  it('a file without a key gets one of its own; a key never changes, for any role', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    const file = await register(id, PDF);
    expect(file.file_key).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      await sqlstate(
        db.query('update upload_lifecycle.entity_files set file_key = $1 where id = $2', [
          'other',
          file.file_id,
        ]),
      ),
    ).toBe('UL005');
  });

  it('register_upload_files registers a batch all or nothing, naming the bad index; a replay adds nothing', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    const batch = [
      { ...PDF, key: 'a' },
      { ...PNG, key: 'b' },
    ];
    const bad = await rejection(
      rpc(db, user(alice), 'register_upload_files', {
        entity_id: id,
        files: [...batch, { ...PNG, key: 'c', mime: 'text/plain' }],
      }),
    );
    expect(bad).toMatchObject({ code: 'UL004', message: expect.stringMatching(/^files\[2\]: /) });
    const empty = await rpc(db, user(alice), 'get_upload_state', { entity_id: id });
    expect(empty.files).toEqual([]);
    const state = await rpc(db, user(alice), 'register_upload_files', { entity_id: id, files: batch });
    const replay = await rpc(db, user(alice), 'register_upload_files', { entity_id: id, files: batch });
    expect(state.files.map((f) => f.file_key)).toEqual(['a', 'b']);
    expect(replay.files).toEqual(state.files);
  });

  it('start_upload begins and registers in one call; replayed after a lost answer it answers the same state', async () => {
    const { entity_id: id } = await rpc(db, user(alice), 'create_upload_draft', { kind });
    const files = [{ ...PDF, key: 'a' }];
    const started = await rpc(db, user(alice), 'start_upload', { entity_id: id, files });
    expect(started).toMatchObject({ status: 'uploading', attempt: 1 });
    const replay = await rpc(db, user(alice), 'start_upload', { entity_id: id, files });
    expect(replay.files).toEqual(started.files);
    expect(replay.status).toBe('uploading');
    expect(await eventsOf(db, id)).toHaveLength(2); // create, begin_upload: the replay changed nothing
  });
});

describe('register_upload_file', () => {
  it('answers {file_id, bucket_id, object_path} with the path {owner}/{entity}/{file}; the name is stored, not used', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    const name = 'Ünïcødé ../ report (final).pdf'.replace('/', '');
    const file = await register(id, { ...PDF, filename: name, sha256: 'AB'.repeat(32) });
    expect(file).toEqual({
      file_id: expect.any(String),
      bucket_id: bucketId,
      object_path: `${alice}/${id}/${file.file_id}`,
      file_key: expect.any(String),
    });
    const state = await rpc(db, user(alice), 'get_upload_state', { entity_id: id });
    expect(state.files).toEqual([
      expect.objectContaining({ file_id: file.file_id, original_name: name, sha256: 'ab'.repeat(32) }),
    ]);
  });

  it('normalises the MIME type’s case and accepts wildcard slots', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    await register(id, { ...PNG, mime: 'IMAGE/PNG' });
    const state = await rpc(db, user(alice), 'get_upload_state', { entity_id: id });
    expect(state.files[0]!.declared_mime).toBe('image/png');
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown slot', { ...PDF, slot: 'video' }, /unknown slot video/],
    ['size 0', { ...PDF, size: 0 }, /size must be positive/],
    ['a negative size', { ...PDF, size: -1 }, /size must be positive/],
    [
      'a size above max_bytes',
      { ...PDF, size: 10_001 },
      /file too large: 10001 bytes, slot document allows at most 10000/,
    ],
    [
      'a type the slot does not allow',
      { ...PDF, mime: 'image/png' },
      /file type image\/png not allowed in slot document/,
    ],
    ['a malformed MIME type', { ...PDF, mime: 'pdf' }, /not a MIME type/],
    ['an empty name', { ...PDF, filename: '' }, /file name is empty/],
    [
      'a name over 255 bytes',
      { ...PDF, filename: `${'é'.repeat(128)}.pdf` },
      /file name too long: 260 bytes/,
    ],
    [
      'a name with a control character',
      { ...PDF, filename: 'a\u0007.pdf' },
      /control characters or path separators/,
    ],
    ['a name with a slash', { ...PDF, filename: '../etc/passwd' }, /control characters or path separators/],
    [
      'a name with a backslash',
      { ...PDF, filename: '..\\boot.ini' },
      /control characters or path separators/,
    ],
    ['a malformed sha256', { ...PDF, sha256: 'xyz' }, /sha256 must be 64 lowercase hex digits/],
  ];

  it.each(invalid)('refuses %s with UL004 saying what is wrong', async (_, file, message) => {
    const id = await entityAt(db, kind, alice, 'uploading');
    const error = await rejection(register(id, file));
    expect(error).toMatchObject({ code: 'UL004', message: expect.stringMatching(message) });
    expect(error.hint).toBeTruthy();
  });

  it('refuses more files than the slot’s max_count (UL004)', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    await register(id, PDF);
    const error = await rejection(register(id, PDF));
    expect(error).toMatchObject({ code: 'UL004', message: 'too many files in slot document: at most 1' });
  });

  it.each(['draft', 'failed', 'completed'] as const)('refuses files while %s (UL005)', async (status) => {
    const id = await entityAt(db, kind, alice, status);
    expect(await sqlstate(register(id, PNG))).toBe('UL005');
  });
});

describe('remove_upload_file', () => {
  it('removes a file while uploading and answers the state without it', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    const keep = await register(id, PNG);
    const gone = await register(id, PDF);
    const state = await rpc(db, user(alice), 'remove_upload_file', { entity_id: id, file_id: gone.file_id });
    expect(state.files.map((f) => f.file_id)).toEqual([keep.file_id]);
    await register(id, PDF); // the slot is free again
  });

  it('a file id of another entity is UL003', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    const other = await entityAt(db, kind, alice, 'uploading');
    const file = await register(other, PDF);
    expect(
      await sqlstate(rpc(db, user(alice), 'remove_upload_file', { entity_id: id, file_id: file.file_id })),
    ).toBe('UL003');
    expect(
      await sqlstate(rpc(db, user(alice), 'remove_upload_file', { entity_id: id, file_id: randomUUID() })),
    ).toBe('UL003');
  });

  it.each(['draft', 'failed', 'completed'] as const)('refuses while %s (UL005)', async (status) => {
    const id = await entityAt(db, kind, alice, status);
    const { rows } = await db.query<{ id: string }>(
      'select id from upload_lifecycle.entity_files where entity_id = $1',
      [id],
    );
    const fileId = rows[0]?.id ?? randomUUID();
    expect(
      await sqlstate(rpc(db, user(alice), 'remove_upload_file', { entity_id: id, file_id: fileId })),
    ).toBe('UL005');
  });
});

describe('one round trip: create_upload_draft with files and start_upload', () => {
  it('creates, begins and registers in one call and answers the paths', async () => {
    const state = await rpc(db, user(alice), 'create_upload_draft', {
      kind,
      metadata: { title: 'Q3' },
      files: [PDF, PNG, { ...PNG, filename: 'second.png' }],
      start_upload: true,
    });
    expect(state.status).toBe('uploading');
    expect(state.attempt).toBe(1);
    expect(state.files.map((f) => [f.slot, f.original_name, f.object_path])).toEqual([
      ['document', 'report.pdf', `${alice}/${state.entity_id}/${state.files[0]!.file_id}`],
      ['photos', 'photo.png', `${alice}/${state.entity_id}/${state.files[1]!.file_id}`],
      ['photos', 'second.png', `${alice}/${state.entity_id}/${state.files[2]!.file_id}`],
    ]);
    expect((await eventsOf(db, state.entity_id)).map((e) => e.event)).toEqual(['create', 'begin_upload']);
  });

  it('so the whole entity is 2 RPCs plus the uploads', async () => {
    const state = await rpc(db, user(alice), 'create_upload_draft', {
      kind,
      files: [PDF],
      start_upload: true,
    });
    await upload(db, alice, state.files[0]!, { size: PDF.size, mime: PDF.mime });
    const done = await rpc(db, user(alice), 'finalize_upload', { entity_id: state.entity_id });
    expect(done.status).toBe('completed');
  });

  it('is all or nothing: an invalid file names its index and leaves no row behind', async () => {
    const error = await rejection(
      rpc(db, user(alice), 'create_upload_draft', {
        kind,
        idempotency_key: 'once',
        files: [PDF, { ...PNG, size: 999_999 }],
        start_upload: true,
      }),
    );
    expect(error).toMatchObject({
      code: 'UL004',
      message: expect.stringMatching(/^files\[1\]: file too large/),
    });
    const { rows } = await db.query<{ n: number }>(
      'select count(*)::int as n from upload_lifecycle.entities',
    );
    expect(rows[0]!.n).toBe(0);
  });

  it.each([
    ['a size that is not a whole number', { ...PDF, size: 1.5 }, /files\[0\]: size must be a whole number/],
    [
      'a missing size',
      { slot: 'document', filename: 'a.pdf', mime: 'application/pdf' },
      /files\[0\]: size must be/,
    ],
    ['an entry that is not an object', 'report.pdf', /files\[0\]: a file must be an object/],
  ])('refuses %s (UL004)', async (_, file, message) => {
    const error = await rejection(
      rpc(db, user(alice), 'create_upload_draft', { kind, files: [file], start_upload: true }),
    );
    expect(error).toMatchObject({ code: 'UL004', message: expect.stringMatching(message) });
  });

  it('refuses files without start_upload: a draft accepts no files (UL004)', async () => {
    expect(await sqlstate(rpc(db, user(alice), 'create_upload_draft', { kind, files: [PDF] }))).toBe('UL004');
  });

  it('a replay with the same idempotency key answers the first call’s files, registering nothing twice', async () => {
    const args = { kind, idempotency_key: 'k', files: [PDF], start_upload: true };
    const first = await rpc(db, user(alice), 'create_upload_draft', args);
    const again = await rpc(db, user(alice), 'create_upload_draft', args);
    expect(again).toEqual(first);
    expect(await statusOfRow(db, first.entity_id)).toBe('uploading');
  });
});

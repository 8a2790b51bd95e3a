import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anon, as, createUser, resetDb, service, sqlstate, user, type TestDb } from '../support/db.js';
import { defineKind, eventsOf, statusOfRow } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';
import { PDF, eventCount, rejection, rpc, createContractDb } from './support.js';

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

const draft = (owner: string, args: Record<string, unknown> = {}) =>
  rpc(db, user(owner), 'create_upload_draft', { kind, ...args });

describe('create_upload_draft', () => {
  it('creates a draft owned by the caller and answers its UploadState', async () => {
    const state = await draft(alice, { metadata: { title: 'Q3' } });
    expect(state).toMatchObject({
      kind,
      status: 'draft',
      attempt: 0,
      max_attempts: 3,
      failure_reason: null,
      metadata: { title: 'Q3' },
      completed_at: null,
      files: [],
    });
    expect(state.requirements.map((r) => r.slot)).toEqual(['document', 'photos']);
    const { rows } = await db.query<{ owner_id: string }>(
      'select owner_id from upload_lifecycle.entities where id = $1',
      [state.entity_id],
    );
    expect(rows).toEqual([{ owner_id: alice }]);
    expect(await eventsOf(db, state.entity_id)).toEqual([
      { event: 'create', from_status: null, to_status: 'draft' },
    ]);
  });

  it('the same idempotency key from the same owner returns the same entity, not a second row', async () => {
    const first = await draft(alice, { idempotency_key: 'k-1' });
    const again = await draft(alice, { idempotency_key: 'k-1' });
    expect(again.entity_id).toBe(first.entity_id);
    const other = await draft(bob, { idempotency_key: 'k-1' });
    expect(other.entity_id).not.toBe(first.entity_id);
    const { rows } = await db.query<{ n: number }>(
      'select count(*)::int as n from upload_lifecycle.entities',
    );
    expect(rows[0]!.n).toBe(2);
  });

  it('refuses an idempotency key reused with other metadata or another kind (UL004 naming the key)', async () => {
    const first = await draft(alice, { idempotency_key: 'k-2', metadata: { title: 'Q3' } });
    const sameAgain = await draft(alice, { idempotency_key: 'k-2', metadata: { title: 'Q3' } });
    expect(sameAgain.entity_id).toBe(first.entity_id);
    const otherMetadata = await rejection(
      draft(alice, { idempotency_key: 'k-2', metadata: { title: 'Q4' } }),
    );
    expect(otherMetadata).toMatchObject({
      code: 'UL004',
      message: 'idempotency_key k-2 was already used with other parameters',
    });
    const { kind: other } = await defineKind(db, { kind: 'invoice' });
    const otherKind = await rejection(
      rpc(db, user(alice), 'create_upload_draft', {
        kind: other,
        idempotency_key: 'k-2',
        metadata: { title: 'Q3' },
      }),
    );
    expect(otherKind).toMatchObject({ code: 'UL004', message: expect.stringContaining('k-2') });
    const { rows } = await db.query<{ n: number }>(
      'select count(*)::int as n from upload_lifecycle.entities',
    );
    expect(rows[0]!.n).toBe(1);
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', JSON.stringify('title')],
    ['a number', 42],
  ])('refuses metadata that is %s (UL004)', async (_, metadata) => {
    const error = await rejection(draft(alice, { metadata }));
    expect(error).toMatchObject({
      code: 'UL004',
      message: expect.stringContaining('metadata must be a JSON object'),
    });
  });

  it('refuses metadata over the kind’s max_metadata_bytes (UL004 naming the cap)', async () => {
    await as(db, service, (tx) =>
      tx.query('update upload_lifecycle.entity_kinds set max_metadata_bytes = 64 where kind = $1', [kind]),
    );
    await draft(alice, { metadata: { note: 'x'.repeat(40) } });
    const error = await rejection(draft(alice, { metadata: { note: 'x'.repeat(80) } }));
    expect(error).toMatchObject({
      code: 'UL004',
      message: expect.stringMatching(/metadata too large: \d+ bytes.*at most 64/),
    });
  });

  it('refuses an unknown kind (UL004)', async () => {
    expect(await sqlstate(rpc(db, user(alice), 'create_upload_draft', { kind: 'nope' }))).toBe('UL004');
  });

  it('refuses an idempotency key over 200 characters (UL004)', async () => {
    expect(await sqlstate(draft(alice, { idempotency_key: 'k'.repeat(201) }))).toBe('UL004');
  });

  it('needs a signed-in user: anon has no EXECUTE, service_role has no user to own the row', async () => {
    expect(await sqlstate(rpc(db, anon, 'create_upload_draft', { kind }))).toBe('42501');
    expect(await sqlstate(rpc(db, service, 'create_upload_draft', { kind }))).toBe('42501');
  });

  describe('quota of unfinished entities per owner and kind', () => {
    beforeEach(async () => {
      await as(db, service, (tx) =>
        tx.query('update upload_lifecycle.entity_kinds set max_unfinished_per_owner = 2 where kind = $1', [
          kind,
        ]),
      );
    });

    it('refuses one more than max_unfinished_per_owner with UL004 naming the limit', async () => {
      await draft(alice);
      await draft(alice);
      const error = await rejection(draft(alice));
      expect(error).toMatchObject({
        code: 'UL004',
        message: `quota reached: at most 2 unfinished ${kind} uploads per user`,
        detail: 'limit max_unfinished_per_owner = 2',
      });
    });

    it('counts per owner, ignores completed entities and frees a slot on delete', async () => {
      const a = await draft(alice);
      await draft(alice);
      await draft(bob);
      await entityAt(db, kind, alice, 'completed');
      expect(await sqlstate(draft(alice))).toBe('UL004');
      await rpc(db, user(alice), 'delete_upload', { entity_id: a.entity_id });
      await expect(draft(alice)).resolves.toMatchObject({ status: 'draft' });
    });

    it('a replay of an existing idempotency key is answered even at the limit', async () => {
      const first = await draft(alice, { idempotency_key: 'same' });
      await draft(alice);
      await expect(draft(alice, { idempotency_key: 'same' })).resolves.toMatchObject({
        entity_id: first.entity_id,
      });
    });

    it('the count uses the partial index, whatever the table holds', async () => {
      const { rows } = await db.query<{ indexdef: string }>(
        `select indexdef from pg_indexes where schemaname = 'upload_lifecycle' and indexname = 'entities_owner_kind_unfinished'`,
      );
      expect(rows[0]?.indexdef).toMatch(/\(owner_id, kind\) WHERE \(status <> 'completed'/);
    });
  });
});

describe('begin_upload, fail_upload, retry_upload', () => {
  it('walk the lifecycle and each writes exactly one audit event', async () => {
    const { entity_id } = await draft(alice);
    const begun = await rpc(db, user(alice), 'begin_upload', { entity_id });
    expect(begun).toMatchObject({ status: 'uploading', attempt: 1 });
    const failed = await rpc(db, user(alice), 'fail_upload', { entity_id, reason: 'network_lost' });
    expect(failed).toMatchObject({ status: 'failed', failure_reason: 'network_lost' });
    const retried = await rpc(db, user(alice), 'retry_upload', { entity_id });
    expect(retried).toMatchObject({ status: 'uploading', attempt: 2, failure_reason: null });
    expect((await eventsOf(db, entity_id)).map((e) => e.event)).toEqual([
      'create',
      'begin_upload',
      'fail',
      'retry',
    ]);
  });

  it('fail_upload without a reason records client_error; a reason over 500 characters is UL004', async () => {
    const id = await entityAt(db, kind, alice, 'uploading');
    expect(
      await sqlstate(rpc(db, user(alice), 'fail_upload', { entity_id: id, reason: 'r'.repeat(501) })),
    ).toBe('UL004');
    await expect(rpc(db, user(alice), 'fail_upload', { entity_id: id })).resolves.toMatchObject({
      failure_reason: 'client_error',
    });
  });

  it.each([
    ['begin_upload', 'uploading'],
    ['begin_upload', 'failed'],
    ['begin_upload', 'completed'],
    ['fail_upload', 'draft'],
    ['fail_upload', 'failed'],
    ['fail_upload', 'completed'],
    ['retry_upload', 'draft'],
    ['retry_upload', 'uploading'],
    ['retry_upload', 'completed'],
  ] as const)(
    '%s on a %s entity is a forbidden transition (UL001) and changes nothing',
    async (fn, status) => {
      const id = await entityAt(db, kind, alice, status);
      const before = await eventCount(db, id);
      const error = await rejection(rpc(db, user(alice), fn, { entity_id: id }));
      expect(error).toMatchObject({ code: 'UL001', message: expect.stringContaining(`while ${status}`) });
      expect(await statusOfRow(db, id)).toBe(status);
      expect(await eventCount(db, id)).toBe(before);
    },
  );

  it('retry_upload after the last attempt is UL006', async () => {
    const id = await entityAt(db, kind, alice, 'failed');
    for (let i = 0; i < 2; i++) {
      await rpc(db, user(alice), 'retry_upload', { entity_id: id });
      await rpc(db, user(alice), 'fail_upload', { entity_id: id });
    }
    expect(await sqlstate(rpc(db, user(alice), 'retry_upload', { entity_id: id }))).toBe('UL006');
  });

  it('service_role may fail an upload (a worker), but only the owner begins or retries', async () => {
    const uploading = await entityAt(db, kind, alice, 'uploading');
    await expect(
      rpc(db, service, 'fail_upload', { entity_id: uploading, reason: 'expired' }),
    ).resolves.toMatchObject({
      status: 'failed',
    });
    expect(await sqlstate(rpc(db, service, 'retry_upload', { entity_id: uploading }))).toBe('UL003');
    const drafted = await entityAt(db, kind, alice, 'draft');
    expect(await sqlstate(rpc(db, service, 'begin_upload', { entity_id: drafted }))).toBe('UL003');
  });
});

describe('get_upload_state', () => {
  it('answers status, requirements and files for the owner and service_role', async () => {
    const created = await rpc(db, user(alice), 'create_upload_draft', {
      kind,
      files: [PDF],
      start_upload: true,
    });
    const state = await rpc(db, user(alice), 'get_upload_state', { entity_id: created.entity_id });
    expect(state).toEqual(created);
    expect(state.files).toEqual([
      expect.objectContaining({
        slot: 'document',
        original_name: 'report.pdf',
        object_exists: false,
        object_matches: false,
      }),
    ]);
    await expect(rpc(db, service, 'get_upload_state', { entity_id: created.entity_id })).resolves.toEqual(
      created,
    );
  });
});

describe('delete_upload', () => {
  it.each(['draft', 'uploading', 'failed'] as const)('the owner deletes an own %s entity', async (status) => {
    const id = await entityAt(db, kind, alice, status);
    await rpc(db, user(alice), 'delete_upload', { entity_id: id });
    expect(await statusOfRow(db, id)).toBeUndefined();
    expect((await eventsOf(db, id)).at(-1)).toMatchObject({ event: 'delete', from_status: status });
  });

  it('a completed entity cannot be deleted by its owner (UL005)', async () => {
    const id = await entityAt(db, kind, alice, 'completed');
    expect(await sqlstate(rpc(db, user(alice), 'delete_upload', { entity_id: id }))).toBe('UL005');
    expect(await statusOfRow(db, id)).toBe('completed');
  });
});

describe('ownership: another user’s entity is answered exactly like a missing one', () => {
  const calls: [string, (id: string) => Record<string, unknown>][] = [
    ['begin_upload', (id) => ({ entity_id: id })],
    ['register_upload_file', (id) => ({ entity_id: id, ...PDF })],
    ['remove_upload_file', (id) => ({ entity_id: id, file_id: randomUUID() })],
    ['finalize_upload', (id) => ({ entity_id: id })],
    ['fail_upload', (id) => ({ entity_id: id })],
    ['retry_upload', (id) => ({ entity_id: id })],
    ['get_upload_state', (id) => ({ entity_id: id })],
    ['delete_upload', (id) => ({ entity_id: id })],
  ];
  const statusFor: Record<string, 'draft' | 'uploading' | 'failed'> = {
    begin_upload: 'draft',
    retry_upload: 'failed',
    delete_upload: 'draft',
  };

  it.each(calls)('%s: UL003 with the same message for a foreign and a missing id', async (fn, args) => {
    const foreign = await entityAt(db, kind, alice, statusFor[fn] ?? 'uploading');
    const missing = randomUUID();
    const before = await eventCount(db, foreign);
    const foreignError = await rejection(rpc(db, user(bob), fn, args(foreign)));
    const missingError = await rejection(rpc(db, user(bob), fn, args(missing)));
    expect(foreignError.code).toBe('UL003');
    const scrub = (e: typeof foreignError, id: string) => ({
      code: e.code,
      message: e.message.replace(id, '<id>'),
      detail: e.detail,
      hint: e.hint,
    });
    expect(scrub(foreignError, foreign)).toEqual(scrub(missingError, missing));
    expect(await eventCount(db, foreign)).toBe(before);
  });

  it.each(calls)('%s: anon has no EXECUTE (42501)', async (fn, args) => {
    const id = await entityAt(db, kind, alice, 'uploading');
    expect(await sqlstate(rpc(db, anon, fn, args(id)))).toBe('42501');
  });

  it('bob sees none of alice’s rows in the lifecycle tables', async () => {
    await entityAt(db, kind, alice, 'completed');
    for (const table of ['entities', 'entity_files', 'entity_events']) {
      const { rows } = await as(db, user(bob), (tx) =>
        tx.query<{ n: number }>(`select count(*)::int as n from upload_lifecycle.${table}`),
      );
      expect(rows[0]!.n, table).toBe(0);
      const own = await as(db, user(alice), (tx) =>
        tx.query<{ n: number }>(`select count(*)::int as n from upload_lifecycle.${table}`),
      );
      expect(own.rows[0]!.n, table).toBeGreaterThan(0);
    }
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  INITIAL_STATUS,
  LIFECYCLE_TRANSITIONS,
  UPLOAD_STATUSES,
  isAllowedStatusChange,
} from '../../src/machines/lifecycle.js';
import {
  as,
  createPgliteDb,
  createUser,
  resetDb,
  service,
  sqlstate,
  superuser,
  user,
  type TestDb,
} from '../support/db.js';
import { defineKind, eventsOf, insertDraft, statusOfRow } from '../support/fixtures.js';
import {
  completeJobs,
  entityAt,
  prepareProcessing,
  pathTo,
  satisfyRequirements,
} from '../support/lifecycle-paths.js';

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
  // A required processor on photos: processing is reachable (with a photo), and entities
  // without photos complete at finalize as before.
  ({ kind } = await defineKind(db, { processors: [{ processor: 'sha256', slot: 'photos' }] }));
});

const pairs = UPLOAD_STATUSES.flatMap((from) => UPLOAD_STATUSES.map((to) => [from, to] as const));

describe.each([
  ['service_role', service],
  ['superuser', superuser],
] as const)('a direct UPDATE … SET status as %s', (_name, actor) => {
  it.each(pairs)('%s → %s passes the trigger exactly when the lifecycle allows it', async (from, to) => {
    const id = await entityAt(db, kind, owner, from);
    expect(await statusOfRow(db, id)).toBe(from);
    const allowed = from === to || isAllowedStatusChange(from, to);
    // uploading → completed must also pass the commit-time check: give it verified files
    // (an entity walked to processing has them already: its files are frozen).
    if (allowed && to === 'completed' && from === 'uploading') await satisfyRequirements(db, id, owner);
    if (allowed && to === 'completed' && from === 'processing') await completeJobs(db, id);
    if (allowed && to === 'processing' && from === 'uploading') {
      await satisfyRequirements(db, id, owner);
      await prepareProcessing(db, id, owner);
    }
    const before = await eventsOf(db, id);

    const update = as(db, actor, (tx) =>
      tx.query(`update upload_lifecycle.entities set status = $2 where id = $1`, [id, to]),
    );
    if (allowed) {
      await update;
      expect(await statusOfRow(db, id)).toBe(to);
      const after = await eventsOf(db, id);
      expect(after.length).toBe(before.length + (from === to ? 0 : 1));
    } else {
      await expect(update).rejects.toMatchObject({
        code: 'UL001',
        message: `forbidden transition: ${from} → ${to}`,
      });
      expect(await statusOfRow(db, id)).toBe(from);
      expect(await eventsOf(db, id)).toEqual(before);
    }
  });
});

describe('what a signed-in user can do directly', () => {
  it.each(pairs)('cannot UPDATE status %s → %s of an own entity', async (from, to) => {
    const id = await entityAt(db, kind, owner, from);
    expect(
      await sqlstate(
        as(db, user(owner), (tx) =>
          tx.query(`update upload_lifecycle.entities set status = $2 where id = $1`, [id, to]),
        ),
      ),
    ).toBe('42501');
    expect(await statusOfRow(db, id)).toBe(from);
  });

  it('cannot INSERT an entity or a file row', async () => {
    expect(
      await sqlstate(
        as(db, user(owner), (tx) =>
          tx.query(`insert into upload_lifecycle.entities (kind) values ($1)`, [kind]),
        ),
      ),
    ).toBe('42501');
    const id = await entityAt(db, kind, owner, 'uploading');
    expect(
      await sqlstate(
        as(db, user(owner), (tx) =>
          tx.query(
            `insert into upload_lifecycle.entity_files (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime)
             values ($1, $2, 'document', 'b', 'p', 'a.pdf', 10, 'application/pdf')`,
            [id, kind],
          ),
        ),
      ),
    ).toBe('42501');
  });
});

describe('creation', () => {
  it(`a new row starts as ${INITIAL_STATUS}, the target of create`, async () => {
    const id = await insertDraft(db, kind, owner);
    expect(await statusOfRow(db, id)).toBe(INITIAL_STATUS);
    expect(await eventsOf(db, id)).toEqual([
      { event: 'create', from_status: null, to_status: INITIAL_STATUS },
    ]);
  });

  it.each(UPLOAD_STATUSES.filter((s) => s !== INITIAL_STATUS))(
    'inserting a row as %s is the forbidden transition none → it',
    async (status) => {
      for (const actor of [service, superuser]) {
        const insert = as(db, actor, (tx) =>
          tx.query(
            `insert into upload_lifecycle.entities (kind, owner_id, status, completed_at) values ($1, $2, $3, now())`,
            [kind, owner, status],
          ),
        );
        await expect(insert).rejects.toMatchObject({ code: 'UL001' });
      }
    },
  );
});

describe('requirements are checked at commit', () => {
  it('draft → uploading → completed without the required files is rejected at commit, even as superuser', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    const attempt = as(db, superuser, async (tx) => {
      await tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [id]);
      // Inside the transaction the statement itself succeeded: the check is deferred.
      const { rows } = await tx.query<{ status: string }>(
        `select status from upload_lifecycle.entities where id = $1`,
        [id],
      );
      expect(rows[0]!.status).toBe('completed');
    });
    await expect(attempt).rejects.toMatchObject({ code: 'UL002' });
    expect(await statusOfRow(db, id)).toBe('uploading');
  });

  it('the rejection lists what is missing in DETAIL', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    const error = await as(db, service, (tx) =>
      tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [id]),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'UL002',
      detail: expect.stringContaining('slot document: 0 file(s), at least 1 required'),
    });
  });

  it('SET CONSTRAINTS ALL IMMEDIATE does not dodge the check, it only moves it earlier', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    const attempt = as(db, superuser, async (tx) => {
      await tx.query('set constraints all immediate');
      await tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [id]);
    });
    await expect(attempt).rejects.toMatchObject({ code: 'UL002' });
  });

  it('an unverified file or a missing object blocks completion even when counts are met', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    await satisfyRequirements(db, id, owner);
    await db.query(`set storage.allow_delete_query = 'true'`);
    await db.query(`delete from storage.objects`);
    await db.query(`reset storage.allow_delete_query`);
    const error = await as(db, superuser, (tx) =>
      tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [id]),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UL002', detail: expect.stringContaining('not uploaded') });
  });

  it('with verified files it commits and entity_events holds each step', async () => {
    const id = await entityAt(db, kind, owner, 'completed');
    expect(await statusOfRow(db, id)).toBe('completed');
    const expected = pathTo('completed').map((t) => ({
      event: t.event,
      from_status: t.from,
      to_status: t.to,
    }));
    expect(await eventsOf(db, id)).toEqual(expected);
  });
});

describe('guards and actions of the machine run in the trigger', () => {
  it('retry increments attempt and is refused with UL006 once attempts are used up', async () => {
    const id = await entityAt(db, kind, owner, 'failed');
    const retry = LIFECYCLE_TRANSITIONS.find((t) => t.event === 'retry')!;
    const fail = LIFECYCLE_TRANSITIONS.find((t) => t.event === 'fail')!;
    const attempts = async () =>
      (
        await db.query<{ attempt: number }>(`select attempt from upload_lifecycle.entities where id = $1`, [
          id,
        ])
      ).rows[0]!.attempt;
    expect(await attempts()).toBe(1);
    for (const expected of [2, 3]) {
      await as(db, service, (tx) =>
        tx.query(`update upload_lifecycle.entities set status = $2 where id = $1`, [id, retry.to]),
      );
      expect(await attempts()).toBe(expected);
      await as(db, service, (tx) =>
        tx.query(`update upload_lifecycle.entities set status = $2 where id = $1`, [id, fail.to]),
      );
    }
    const refused = as(db, superuser, (tx) =>
      tx.query(`update upload_lifecycle.entities set status = $2 where id = $1`, [id, retry.to]),
    );
    await expect(refused).rejects.toMatchObject({ code: 'UL006' });
    expect(await statusOfRow(db, id)).toBe('failed');
  });

  it('fail records the reason; retry clears it', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    await as(db, service, (tx) =>
      tx.query(
        `update upload_lifecycle.entities set status = 'failed', failure_reason = 'expired' where id = $1`,
        [id],
      ),
    );
    const reason = async () =>
      (
        await db.query<{ failure_reason: string | null }>(
          `select failure_reason from upload_lifecycle.entities where id = $1`,
          [id],
        )
      ).rows[0]!.failure_reason;
    expect(await reason()).toBe('expired');
    await as(db, service, (tx) =>
      tx.query(`update upload_lifecycle.entities set status = 'uploading' where id = $1`, [id]),
    );
    expect(await reason()).toBeNull();
  });

  it('bookkeeping columns cannot be forged by a direct UPDATE', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    await as(db, superuser, (tx) =>
      tx.query(
        `update upload_lifecycle.entities set attempt = 99, completed_at = now(), status_changed_at = '2000-01-01' where id = $1`,
        [id],
      ),
    );
    const { rows } = await db.query<{
      attempt: number;
      completed_at: string | null;
      status_changed_at: Date;
    }>(`select attempt, completed_at, status_changed_at from upload_lifecycle.entities where id = $1`, [id]);
    expect(rows[0]!.attempt).toBe(1);
    expect(rows[0]!.completed_at).toBeNull();
    expect(new Date(rows[0]!.status_changed_at).getFullYear()).toBeGreaterThan(2000);
  });

  it('id, kind and owner_id never change', async () => {
    const id = await entityAt(db, kind, owner, 'draft');
    const other = await createUser(db);
    expect(
      await sqlstate(
        as(db, superuser, (tx) =>
          tx.query(`update upload_lifecycle.entities set owner_id = $2 where id = $1`, [id, other]),
        ),
      ),
    ).toBe('UL005');
  });

  it('updated_at and status_changed_at are kept by the trigger', async () => {
    const id = await entityAt(db, kind, owner, 'draft');
    const read = async () =>
      (
        await db.query<{ updated_at: Date; status_changed_at: Date }>(
          `select updated_at, status_changed_at from upload_lifecycle.entities where id = $1`,
          [id],
        )
      ).rows[0]!;
    const before = await read();
    await as(db, service, (tx) =>
      tx.query(`update upload_lifecycle.entities set metadata = '{"a":1}' where id = $1`, [id]),
    );
    const afterMetadata = await read();
    expect(afterMetadata.updated_at.getTime()).toBeGreaterThanOrEqual(before.updated_at.getTime());
    expect(afterMetadata.status_changed_at).toEqual(before.status_changed_at);
  });
});

describe('the audit log', () => {
  it('is append-only, even for the superuser', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    expect(
      await sqlstate(
        db.query(`update upload_lifecycle.entity_events set event = 'x' where entity_id = $1`, [id]),
      ),
    ).toBe('UL005');
    expect(
      await sqlstate(db.query(`delete from upload_lifecycle.entity_events where entity_id = $1`, [id])),
    ).toBe('UL005');
  });

  it('records deletion and outlives the row', async () => {
    const id = await entityAt(db, kind, owner, 'failed');
    await as(db, service, (tx) => tx.query(`delete from upload_lifecycle.entities where id = $1`, [id]));
    const events = await eventsOf(db, id);
    expect(events.at(-1)).toEqual({ event: 'delete', from_status: 'failed', to_status: null });
  });

  it('records who acted', async () => {
    const id = await entityAt(db, kind, owner, 'draft');
    const { rows } = await db.query<{ actor_role: string }>(
      `select actor_role from upload_lifecycle.entity_events where entity_id = $1`,
      [id],
    );
    expect(rows).toEqual([{ actor_role: 'service_role' }]);
  });
});

// The foundation's enforcement on a real PostgreSQL server (runs when DATABASE_URL is set).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UPLOAD_STATUSES, isAllowedStatusChange } from '../../src/machines/lifecycle.js';
import { as, createUser, resetDb, service, superuser } from '../support/db.js';
import { defineKind, statusOfRow } from '../support/fixtures.js';
import {
  completeJobs,
  entityAt,
  prepareProcessing,
  satisfyRequirements,
} from '../support/lifecycle-paths.js';
import { createPgDb, hasServer, type PgTestDb } from '../support/pg.js';

describe.skipIf(!hasServer)('on PostgreSQL 15: direct status updates', () => {
  let db: PgTestDb;
  let owner: string;
  let kind: string;
  beforeAll(async () => {
    db = await createPgDb();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await resetDb(db);
    owner = await createUser(db);
    // A required processor on photos: processing is reachable (with a photo), and entities
    // without photos complete at finalize as before.
    ({ kind } = await defineKind(db, { processors: [{ processor: 'sha256', slot: 'photos' }] }));
  });

  const pairs = UPLOAD_STATUSES.flatMap((from) => UPLOAD_STATUSES.map((to) => [from, to] as const));
  it.each(pairs)('%s → %s as service_role and superuser follows the lifecycle table', async (from, to) => {
    for (const actor of [service, superuser]) {
      const id = await entityAt(db, kind, owner, from);
      const allowed = from === to || isAllowedStatusChange(from, to);
      if (allowed && to === 'completed' && from === 'uploading') await satisfyRequirements(db, id, owner);
      if (allowed && to === 'completed' && from === 'processing') await completeJobs(db, id);
      // uploading → processing passes the commit-time check only with the requirements met and a
      // file a required processor applies to (as on PGlite).
      if (allowed && to === 'processing' && from === 'uploading') {
        await satisfyRequirements(db, id, owner);
        await prepareProcessing(db, id, owner);
      }
      const update = as(db, actor, (tx) =>
        tx.query(`update upload_lifecycle.entities set status = $2 where id = $1`, [id, to]),
      );
      if (allowed) await update;
      else await expect(update).rejects.toMatchObject({ code: 'UL001' });
      expect(await statusOfRow(db, id)).toBe(allowed ? to : from);
    }
  });

  it('completion without files is rejected at commit even as superuser', async () => {
    const id = await entityAt(db, kind, owner, 'uploading');
    await expect(
      as(db, superuser, (tx) =>
        tx.query(`update upload_lifecycle.entities set status = 'completed' where id = $1`, [id]),
      ),
    ).rejects.toMatchObject({ code: 'UL002' });
    expect(await statusOfRow(db, id)).toBe('uploading');
  });
});

// sweep_upload_lifecycle (DESIGN.md §2 "Failure and recovery"): what it removes, what it
// fails, what it never touches, and how it batches.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  anon,
  as,
  createUser,
  resetDb,
  service,
  sqlstate,
  superuser,
  user,
  type TestDb,
} from '../../support/db.js';
import { defineKind, eventsOf, forceObject, registerFile, statusOfRow } from '../../support/fixtures.js';
import { entityAt } from '../../support/lifecycle-paths.js';
import {
  ageDatabase,
  ageEntity,
  objectExists,
  putLooseObject,
  queuedDeletions,
  runSweep,
  sweepUntilQuiet,
} from '../../support/sweep.js';
import { storeObject } from '../../support/fixtures.js';

/** The suite, on the database `open` creates (one per file, reset before each case). */
export function sweepSpec(backend: string, open: () => Promise<TestDb>): void {
  describe(backend, () => {
    let db: TestDb;
    let owner: string;
    let kind: string;
    let bucketId: string;

    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db.close();
    });
    beforeEach(async () => {
      await resetDb(db);
      owner = await createUser(db);
      ({ kind, bucketId } = await defineKind(db));
    });

    async function uploadingWithObject() {
      const id = await entityAt(db, kind, owner, 'uploading');
      const file = await registerFile(db, id);
      await forceObject(db, owner, file);
      return { id, file };
    }

    describe('expired drafts', () => {
      it('deletes a draft once it is draft_ttl old, not before', async () => {
        const id = await entityAt(db, kind, owner, 'draft');
        expect((await runSweep(db, { hours: 23 })).drafts_deleted).toBe(0);
        expect(await statusOfRow(db, id)).toBe('draft');
        expect((await runSweep(db, { hours: 24 })).drafts_deleted).toBe(1);
        expect(await statusOfRow(db, id)).toBeUndefined();
        expect((await eventsOf(db, id)).at(-1)).toMatchObject({ event: 'delete', from_status: 'draft' });
      });

      it('uses each kind’s own draft_ttl', async () => {
        const quick = await defineKind(db, { kind: 'quick' });
        await db.query(
          `update upload_lifecycle.entity_kinds set draft_ttl = interval '1 hour' where kind = $1`,
          [quick.kind],
        );
        const slow = await entityAt(db, kind, owner, 'draft');
        const fast = await entityAt(db, quick.kind, owner, 'draft');
        expect((await runSweep(db, { hours: 2 })).drafts_deleted).toBe(1);
        expect(await statusOfRow(db, fast)).toBeUndefined();
        expect(await statusOfRow(db, slow)).toBe('draft');
      });
    });

    describe('idle uploads', () => {
      it('fail with reason expired through the lifecycle, with an audit event, keeping their files', async () => {
        const { id, file } = await uploadingWithObject();
        expect((await runSweep(db, { hours: 25 })).uploads_expired).toBe(1);
        const { rows } = await db.query<{ status: string; failure_reason: string }>(
          `select status, failure_reason from upload_lifecycle.entities where id = $1`,
          [id],
        );
        expect(rows[0]).toEqual({ status: 'failed', failure_reason: 'expired' });
        const { rows: events } = await db.query<{ event: string; reason: string }>(
          `select event, detail ->> 'failure_reason' as reason from upload_lifecycle.entity_events
           where entity_id = $1 order by id desc limit 1`,
          [id],
        );
        expect(events[0]).toEqual({ event: 'fail', reason: 'expired' });
        expect(await objectExists(db, file.bucketId, file.objectPath)).toBe(true);
        expect(await queuedDeletions(db)).toEqual([]);
      });

      it('are not idle while files are being registered', async () => {
        const id = await entityAt(db, kind, owner, 'uploading');
        await ageEntity(db, id, 30);
        await registerFile(db, id);
        expect((await runSweep(db)).uploads_expired).toBe(0);
        expect(await statusOfRow(db, id)).toBe('uploading');
        expect((await runSweep(db, { hours: 24 })).uploads_expired).toBe(1);
      });

      it('are not idle while their objects are being written', async () => {
        const id = await entityAt(db, kind, owner, 'uploading');
        const file = await registerFile(db, id, { size: 100 });
        await ageEntity(db, id, 30);
        await storeObject(db, owner, file);
        expect((await runSweep(db)).uploads_expired).toBe(0);
        expect(await statusOfRow(db, id)).toBe('uploading');
        expect((await runSweep(db, { hours: 24 })).uploads_expired).toBe(1);
      });

      it('are idle from their last status change when nothing else happened', async () => {
        const id = await entityAt(db, kind, owner, 'uploading');
        expect((await runSweep(db, { hours: 23.9 })).uploads_expired).toBe(0);
        expect((await runSweep(db, { hours: 24 })).uploads_expired).toBe(1);
        expect(await statusOfRow(db, id)).toBe('failed');
      });
    });

    describe('long-failed rows', () => {
      it('are deleted once failed_ttl old and queue their objects', async () => {
        const { id, file } = await uploadingWithObject();
        await as(db, service, (tx) => tx.query(`select public.fail_upload($1, 'client_error')`, [id]));
        expect((await runSweep(db, { hours: 24 * 7 - 1 })).failed_deleted).toBe(0);
        expect((await runSweep(db, { hours: 24 * 7 })).failed_deleted).toBe(1);
        expect(await statusOfRow(db, id)).toBeUndefined();
        expect(await queuedDeletions(db)).toMatchObject([
          {
            bucket_id: file.bucketId,
            object_path: file.objectPath,
            reason: 'failed_expired',
            entity_id: id,
            done: false,
          },
        ]);
      });
    });

    describe('what the sweep never touches', () => {
      it('leaves completed entities and their objects alone, however old', async () => {
        const id = await entityAt(db, kind, owner, 'completed');
        await ageDatabase(db, 24 * 365);
        const counts = await sweepUntilQuiet(db, { hours: 24 * 365 });
        expect(counts).toMatchObject({
          drafts_deleted: 0,
          uploads_expired: 0,
          failed_deleted: 0,
          orphans_queued: 0,
        });
        expect(await statusOfRow(db, id)).toBe('completed');
        const { rows } = await db.query<{ n: number }>(`select count(*)::integer as n from storage.objects`);
        expect(rows[0]!.n).toBe(1);
        expect(await queuedDeletions(db)).toEqual([]);
      });

      it('leaves objects of other buckets alone', async () => {
        await putLooseObject(db, 'avatars', 'someone/face.png', 24 * 30);
        expect((await sweepUntilQuiet(db, { hours: 24 * 30 })).orphans_queued).toBe(0);
        expect(await queuedDeletions(db)).toEqual([]);
      });
    });

    describe('orphaned objects', () => {
      it('are queued once older than the grace period, and only once', async () => {
        await putLooseObject(db, bucketId, 'nobody/nothing/x');
        expect((await runSweep(db, { hours: 0.5 })).orphans_queued).toBe(0);
        expect((await runSweep(db, { hours: 2 })).orphans_queued).toBe(1);
        expect((await runSweep(db, { hours: 3 })).orphans_queued).toBe(0);
        expect(await queuedDeletions(db)).toMatchObject([
          { bucket_id: bucketId, object_path: 'nobody/nothing/x', reason: 'orphan', entity_id: null },
        ]);
      });

      it('exclude objects that a file row owns', async () => {
        await uploadingWithObject();
        await ageDatabase(db, 2);
        const counts = await runSweep(db);
        expect(counts).toMatchObject({ orphans_queued: 0, objects_scanned: 1, orphan_pass_complete: true });
      });

      it('are scanned at most `batch` objects per call, continuing from a cursor', async () => {
        for (const name of ['a', 'b', 'c', 'd', 'e']) await putLooseObject(db, bucketId, `x/${name}`, 2);
        const calls = [await runSweep(db, {}, 2), await runSweep(db, {}, 2), await runSweep(db, {}, 2)];
        expect(calls.map((c) => [c.objects_scanned, c.orphans_queued, c.orphan_pass_complete])).toEqual([
          [2, 2, false],
          [2, 2, false],
          [1, 1, true],
        ]);
        expect((await queuedDeletions(db)).map((d) => d.object_path)).toEqual([
          'x/a',
          'x/b',
          'x/c',
          'x/d',
          'x/e',
        ]);
      });
    });

    describe('batches, counts and privileges', () => {
      it('handles at most `batch` rows per step and continues on the next call', async () => {
        for (let i = 0; i < 5; i++) await entityAt(db, kind, owner, 'draft');
        const deleted = [];
        for (let i = 0; i < 4; i++) deleted.push((await runSweep(db, { hours: 48 }, 2)).drafts_deleted);
        expect(deleted).toEqual([2, 2, 1, 0]);
      });

      it('finds nothing the second time', async () => {
        await entityAt(db, kind, owner, 'draft');
        await uploadingWithObject();
        const first = await runSweep(db, { hours: 24 * 8 });
        expect(first).toMatchObject({ drafts_deleted: 1, uploads_expired: 1, failed_deleted: 1 });
        expect(await runSweep(db, { hours: 24 * 8 })).toMatchObject({
          drafts_deleted: 0,
          uploads_expired: 0,
          failed_deleted: 0,
          orphans_queued: 0,
        });
      });

      it('prunes done outbox rows after their retention, never pending ones', async () => {
        await db.query(
          `insert into upload_lifecycle.storage_deletions (bucket_id, object_path, reason, done_at)
           values ($1, 'old/done', 'orphan', now() - interval '8 days'), ($1, 'new/done', 'orphan', now()),
                  ($1, 'old/pending', 'orphan', null)`,
          [bucketId],
        );
        await db.query(
          `update upload_lifecycle.storage_deletions set created_at = now() - interval '30 days'`,
        );
        expect((await runSweep(db)).outbox_pruned).toBe(1);
        expect((await queuedDeletions(db)).map((d) => d.object_path)).toEqual(['new/done', 'old/pending']);
      });

      it('may be run by service_role only', async () => {
        const call = `select public.sweep_upload_lifecycle()`;
        expect(await sqlstate(as(db, user(owner), (tx) => tx.query(call)))).toBe('42501');
        expect(await sqlstate(as(db, anon, (tx) => tx.query(call)))).toBe('42501');
        await expect(as(db, service, (tx) => tx.query(call))).resolves.toBeDefined();
        await expect(as(db, superuser, (tx) => tx.query(call))).resolves.toBeDefined();
      });

      it('refuses a batch outside 1..100000 with UL004', async () => {
        expect(await sqlstate(runSweep(db, {}, 0))).toBe('UL004');
        expect(await sqlstate(runSweep(db, {}, 100_001))).toBe('UL004');
      });
    });
  });
}

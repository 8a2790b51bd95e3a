// The deletion outbox (0030, 0032): every path that deletes file rows queues their objects, and
// workers claim, complete and postpone rows by the rules of the RPCs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anon, as, createUser, resetDb, service, sqlstate, user, type TestDb } from '../../support/db.js';
import { defineKind, forceObject, registerFile, type RegisteredFile } from '../../support/fixtures.js';
import { entityAt } from '../../support/lifecycle-paths.js';
import { makeDeletionsDue, putLooseObject, queuedDeletions, runSweep } from '../../support/sweep.js';

/** The suite, on the database `open` creates (one per file, reset before each case). */
export function outboxSpec(backend: string, open: () => Promise<TestDb>): void {
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

    async function uploadingWithFiles(objects: boolean[]) {
      const id = await entityAt(db, kind, owner, 'uploading');
      const files: RegisteredFile[] = [];
      for (const withObject of objects) {
        const file = await registerFile(db, id, { slot: 'photos', mime: 'image/png', size: 10 });
        if (withObject) await forceObject(db, owner, file);
        files.push(file);
      }
      return { id, files };
    }

    const claim = (batch: number, lease = 300) =>
      as(db, service, (tx) =>
        tx.query<{ id: number; object_path: string; attempts: number }>(
          `select id::integer as id, object_path, attempts from public.claim_storage_deletions($1, $2)`,
          [batch, lease],
        ),
      ).then((r) => r.rows);
    const complete = (ids: number[]) =>
      as(db, service, (tx) =>
        tx.query<{ answer: { completed: number; still_present: number[] } }>(
          `select public.complete_storage_deletions($1::bigint[]) as answer`,
          [ids],
        ),
      ).then((r) => r.rows[0]!.answer);
    const fail = (ids: number[], error: string) =>
      as(db, service, (tx) =>
        tx.query(`select public.fail_storage_deletions($1::bigint[], $2)`, [ids, error]),
      );
    const delaySeconds = (id: number) =>
      db
        .query<{ s: number }>(
          `select extract(epoch from next_attempt_at - now())::float8 as s from upload_lifecycle.storage_deletions where id = $1`,
          [id],
        )
        .then((r) => r.rows[0]!.s);

    describe('every deletion of file rows queues their objects', () => {
      it('the owner deleting an entity (delete_upload) queues each file, object stored or not', async () => {
        const { id, files } = await uploadingWithFiles([true, false]);
        await as(db, user(owner), (tx) => tx.query(`select public.delete_upload($1)`, [id]));
        const queued = await queuedDeletions(db);
        expect(queued.map((d) => [d.object_path, d.reason, d.entity_id]).sort()).toEqual(
          files.map((f) => [f.objectPath, 'entity_deleted', id]).sort(),
        );
      });

      it('deleting the user in auth.users cascades and queues the objects of every entity, completed too', async () => {
        const completed = await entityAt(db, kind, owner, 'completed');
        const { files } = await uploadingWithFiles([true]);
        await db.query(`delete from auth.users where id = $1`, [owner]);
        const { rows } = await db.query<{ n: number }>(
          `select count(*)::integer as n from upload_lifecycle.entities`,
        );
        expect(rows[0]!.n).toBe(0);
        const queued = await queuedDeletions(db);
        expect(queued).toHaveLength(2);
        expect(queued.map((d) => d.object_path)).toContain(files[0]!.objectPath);
        expect(queued.map((d) => d.entity_id)).toContain(completed);
      });

      it('remove_upload_file queues the removed file with reason file_removed', async () => {
        const { id, files } = await uploadingWithFiles([true, true]);
        await as(db, user(owner), (tx) =>
          tx.query(`select public.remove_upload_file($1, $2)`, [id, files[0]!.id]),
        );
        expect(await queuedDeletions(db)).toMatchObject([
          { bucket_id: bucketId, object_path: files[0]!.objectPath, reason: 'file_removed', entity_id: id },
        ]);
      });

      it('a reason set by a caller is ignored: only the sweep names its own', async () => {
        const { id } = await uploadingWithFiles([true]);
        await as(db, user(owner), async (tx) => {
          await tx.query(`select set_config('upload_lifecycle.deletion_reason', 'nonsense', true)`);
          await tx.query(`select public.delete_upload($1)`, [id]);
        });
        expect((await queuedDeletions(db)).map((d) => d.reason)).toEqual(['entity_deleted']);
      });

      it('a path already pending is queued once', async () => {
        const { id, files } = await uploadingWithFiles([true]);
        await as(db, user(owner), (tx) =>
          tx.query(`select public.remove_upload_file($1, $2)`, [id, files[0]!.id]),
        );
        expect((await runSweep(db, { hours: 2 })).orphans_queued).toBe(0);
        expect(await queuedDeletions(db)).toHaveLength(1);
      });
    });

    describe('the outbox belongs to workers', () => {
      it('is invisible to signed-in users and anon, readable by service_role', async () => {
        await putLooseObject(db, bucketId, 'x/y', 2);
        await runSweep(db);
        const read = `select count(*)::integer as n from upload_lifecycle.storage_deletions`;
        expect(await sqlstate(as(db, user(owner), (tx) => tx.query(read)))).toBe('42501');
        expect(await sqlstate(as(db, anon, (tx) => tx.query(read)))).toBe('42501');
        const { rows } = await as(db, service, (tx) => tx.query<{ n: number }>(read));
        expect(rows[0]!.n).toBe(1);
      });

      it('claim, complete and fail are for service_role only', async () => {
        for (const call of [
          `select * from public.claim_storage_deletions(10, 60)`,
          `select public.complete_storage_deletions('{1}')`,
          `select public.fail_storage_deletions('{1}', 'x')`,
        ]) {
          expect(await sqlstate(as(db, user(owner), (tx) => tx.query(call)))).toBe('42501');
          expect(await sqlstate(as(db, anon, (tx) => tx.query(call)))).toBe('42501');
        }
      });
    });

    describe('claiming, completing, postponing', () => {
      beforeEach(async () => {
        for (const name of ['a', 'b', 'c']) await putLooseObject(db, bucketId, `o/${name}`, 2);
        expect((await runSweep(db)).orphans_queued).toBe(3);
      });

      it('hands each due row to one claim while its lease runs', async () => {
        const first = await claim(2);
        const second = await claim(10);
        expect(first.map((r) => r.attempts)).toEqual([1, 1]);
        expect(second).toHaveLength(1);
        expect(new Set([...first, ...second].map((r) => r.object_path))).toEqual(
          new Set(['o/a', 'o/b', 'o/c']),
        );
        expect(await claim(10)).toEqual([]);
      });

      it('hands a row out again when its lease has ended', async () => {
        await claim(10, 1);
        await db.query(
          `update upload_lifecycle.storage_deletions set next_attempt_at = now() - interval '1 second'`,
        );
        expect((await claim(10)).map((r) => r.attempts)).toEqual([2, 2, 2]);
      });

      it('completes only rows whose object is gone; the others are postponed with the reason', async () => {
        const rows = await claim(10);
        await db.transaction(async (tx) => {
          await tx.query(`select set_config('storage.allow_delete_query', 'true', true)`);
          await tx.query(`delete from storage.objects where name in ('o/a', 'o/b')`);
        });
        const answer = await complete(rows.map((r) => r.id));
        const present = rows.find((r) => r.object_path === 'o/c')!;
        expect(answer).toEqual({ completed: 2, still_present: [present.id] });
        const pending = await queuedDeletions(db, { pendingOnly: true });
        expect(pending).toMatchObject([{ object_path: 'o/c', attempts: 1 }]);
        expect(pending[0]!.last_error).toMatch(/service_role key/);
        expect(await delaySeconds(present.id)).toBeGreaterThan(10);
      });

      it('postpones failed rows with a backoff that doubles', async () => {
        const [row] = await claim(1);
        await fail([row!.id], 'boom');
        const firstDelay = await delaySeconds(row!.id);
        expect(firstDelay).toBeGreaterThanOrEqual(15 * 0.8 - 1);
        expect(firstDelay).toBeLessThanOrEqual(15 * 1.2 + 1);
        await makeDeletionsDue(db);
        const again = (await claim(10)).find((r) => r.id === row!.id)!;
        expect(again.attempts).toBe(2);
        await fail([row!.id], 'boom again');
        const secondDelay = await delaySeconds(row!.id);
        expect(secondDelay).toBeGreaterThanOrEqual(30 * 0.8 - 1);
        expect(secondDelay).toBeLessThanOrEqual(30 * 1.2 + 1);
        expect((await queuedDeletions(db)).find((d) => d.id === row!.id)!.last_error).toBe('boom again');
      });

      it('never hands out a path that a file row owns again', async () => {
        const { id } = await uploadingWithFiles([]);
        const file = await registerFile(db, id, { slot: 'photos', mime: 'image/png', size: 10 });
        await db.query(
          `insert into upload_lifecycle.storage_deletions (bucket_id, object_path, reason) values ($1, $2, 'orphan')`,
          [file.bucketId, file.objectPath],
        );
        const claimed = await claim(10);
        expect(claimed.map((r) => r.object_path)).not.toContain(file.objectPath);
        const kept = (await queuedDeletions(db)).find((d) => d.object_path === file.objectPath)!;
        expect(kept).toMatchObject({ done: true, attempts: 0 });
        expect(kept.last_error).toMatch(/file row/);
      });

      it('refuses a claim over the Storage API limit of 1000', async () => {
        expect(await sqlstate(claim(1001))).toBe('UL004');
      });
    });
  });
}

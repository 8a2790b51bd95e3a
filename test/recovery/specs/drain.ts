// The deletion workers: drainStorageDeletions through supabase-js against a loopback Storage +
// PostgREST stand-in, and drainEmbeddedStorageDeletions with an in-memory byte store.
import { createClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createMemoryObjectStore,
  drainEmbeddedStorageDeletions,
  drainStorageDeletions,
  type EmbeddedObjectStore,
} from '../../../src/adapters/storage-deletions.js';
import { isUploadLifecycleError } from '../../../src/errors.js';
import { as, createUser, resetDb, user, type TestDb } from '../../support/db.js';
import { defineKind, forceObject, registerFile } from '../../support/fixtures.js';
import { entityAt } from '../../support/lifecycle-paths.js';
import { makeDeletionsDue, objectExists, queuedDeletions } from '../../support/sweep.js';
import { ANON_KEY, SERVICE_KEY, startFakeSupabase, type FakeSupabase } from '../fake-supabase.js';

/** The suite, on the database `open` creates (one per file, reset before each case). */
export function drainSpec(backend: string, open: () => Promise<TestDb>): void {
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

    /** `n` objects queued for deletion in `bucket` (set-based: fast for large n). */
    async function queueObjects(n: number, bucket = bucketId): Promise<string[]> {
      const { rows } = await db.query<{ name: string }>(
        `with o as (
           insert into storage.objects (bucket_id, name, metadata)
           select $1, format('gone/%s', lpad(i::text, 6, '0')), '{"size": 1}' from generate_series(1, $2) i
           returning name)
         insert into upload_lifecycle.storage_deletions (bucket_id, object_path, reason)
         select $1, name, 'orphan' from o returning object_path as name`,
        [bucket, n],
      );
      return rows.map((r) => r.name).sort();
    }

    async function remainingObjects(): Promise<number> {
      const { rows } = await db.query<{ n: number }>(`select count(*)::integer as n from storage.objects`);
      return rows[0]!.n;
    }

    describe('drainStorageDeletions (supabase-js, Storage API)', () => {
      let fake: FakeSupabase;
      // Node 20 has no WebSocket; the worker never opens a realtime channel, so a stand-in transport
      // keeps supabase-js from refusing to start.
      class NoWebSocket {}
      const client = (key: string) =>
        createClient(fake.url, key, {
          auth: { persistSession: false, autoRefreshToken: false },
          realtime: { transport: NoWebSocket as never },
        });

      beforeEach(async () => {
        fake = await startFakeSupabase(db);
      });
      afterEach(async () => {
        await fake.close();
      });

      it('removes the objects of a deleted entity through storage.remove and closes their rows', async () => {
        const completed = await entityAt(db, kind, owner, 'completed');
        const id = await entityAt(db, kind, owner, 'uploading');
        const files = [];
        for (let i = 0; i < 2; i++) {
          const file = await registerFile(db, id, { slot: 'photos', mime: 'image/png', size: 10 });
          await forceObject(db, owner, file);
          files.push(file);
        }
        await as(db, user(owner), (tx) => tx.query(`select public.delete_upload($1)`, [id]));

        const report = await drainStorageDeletions(client(SERVICE_KEY));

        expect(report).toMatchObject({ claimed: 2, removed: 2, postponed: 0, errors: [] });
        expect(fake.removeCalls).toEqual([{ bucketId, prefixes: files.map((f) => f.objectPath).sort() }]);
        for (const f of files) expect(await objectExists(db, f.bucketId, f.objectPath)).toBe(false);
        expect(await queuedDeletions(db, { pendingOnly: true })).toEqual([]);
        const { rows } = await db.query<{ n: number }>(
          `select count(*)::integer as n from storage.objects o join upload_lifecycle.entity_files f
             on f.bucket_id = o.bucket_id and f.object_path = o.name where f.entity_id = $1`,
          [completed],
        );
        expect(rows[0]!.n).toBeGreaterThan(0);
      });

      it('sends at most 1000 paths per remove call', async () => {
        const names = await queueObjects(1500);
        const report = await drainStorageDeletions(client(SERVICE_KEY), { batchSize: 1000 });
        expect(report).toMatchObject({ claimed: 1500, removed: 1500, batches: 2 });
        expect(fake.removeCalls.map((c) => c.prefixes.length)).toEqual([1000, 500]);
        expect(fake.removeCalls.flatMap((c) => c.prefixes).sort()).toEqual(names);
        expect(await remainingObjects()).toBe(0);
      });

      it('does not close rows when remove answers an empty list (a key that may not delete)', async () => {
        await queueObjects(3);
        fake.denyDeletes(true);
        const report = await drainStorageDeletions(client(SERVICE_KEY));
        expect(report).toMatchObject({ claimed: 3, removed: 0, postponed: 3 });
        expect(report.errors[0]).toMatch(/service_role/);
        const pending = await queuedDeletions(db, { pendingOnly: true });
        expect(pending).toHaveLength(3);
        expect(pending.every((d) => d.attempts === 1 && /still present/.test(d.last_error ?? ''))).toBe(true);
        expect(await remainingObjects()).toBe(3);
      });

      it('postpones rows on a storage error and removes them on a later run', async () => {
        await queueObjects(2);
        fake.failNextRemoves(1);
        const first = await drainStorageDeletions(client(SERVICE_KEY));
        expect(first).toMatchObject({ claimed: 2, removed: 0, postponed: 2 });
        expect(first.errors[0]).toMatch(/storage backend unavailable/);
        expect((await queuedDeletions(db, { pendingOnly: true }))[0]!.last_error).toMatch(/unavailable/);

        expect((await drainStorageDeletions(client(SERVICE_KEY))).claimed).toBe(0);
        await makeDeletionsDue(db);
        expect(await drainStorageDeletions(client(SERVICE_KEY))).toMatchObject({ claimed: 2, removed: 2 });
        expect(await remainingObjects()).toBe(0);
      });

      it('two workers at once remove every object exactly once', async () => {
        const names = await queueObjects(400);
        const [a, b] = await Promise.all([
          drainStorageDeletions(client(SERVICE_KEY), { batchSize: 50 }),
          drainStorageDeletions(client(SERVICE_KEY), { batchSize: 50 }),
        ]);
        expect(a.removed + b.removed).toBe(400);
        expect(a.claimed + b.claimed).toBe(400);
        expect(fake.removeCalls.flatMap((c) => c.prefixes).sort()).toEqual(names);
        expect(await queuedDeletions(db, { pendingOnly: true })).toEqual([]);
      });

      it('throws a typed error when the claim RPC is refused (not the service_role key)', async () => {
        await queueObjects(1);
        const error = await drainStorageDeletions(client(ANON_KEY)).catch((e: unknown) => e);
        expect(isUploadLifecycleError(error)).toBe(true);
        expect((error as { cause: { code: string } }).cause.code).toBe('42501');
        expect(fake.removeCalls).toEqual([]);
      });

      it('refuses a batch size over the Storage API limit', async () => {
        await expect(drainStorageDeletions(client(SERVICE_KEY), { batchSize: 1001 })).rejects.toThrow(
          RangeError,
        );
      });
    });

    describe('drainEmbeddedStorageDeletions (PGlite)', () => {
      it('removes the storage.objects rows and the bytes of queued objects, nothing else', async () => {
        const store = createMemoryObjectStore();
        const completed = await entityAt(db, kind, owner, 'completed');
        const { rows: kept } = await db.query<{ bucket_id: string; object_path: string }>(
          `select bucket_id, object_path from upload_lifecycle.entity_files where entity_id = $1`,
          [completed],
        );
        for (const k of kept) store.put(k.bucket_id, k.object_path, new Uint8Array([1]));
        const id = await entityAt(db, kind, owner, 'uploading');
        const file = await registerFile(db, id, { slot: 'photos', mime: 'image/png', size: 10 });
        await forceObject(db, owner, file);
        store.put(file.bucketId, file.objectPath, new Uint8Array([2]));
        await as(db, user(owner), (tx) => tx.query(`select public.delete_upload($1)`, [id]));

        const report = await drainEmbeddedStorageDeletions(db, store);

        expect(report).toMatchObject({ claimed: 1, removed: 1, postponed: 0 });
        expect(await objectExists(db, file.bucketId, file.objectPath)).toBe(false);
        expect(store.get(file.bucketId, file.objectPath)).toBeUndefined();
        for (const k of kept) {
          expect(await objectExists(db, k.bucket_id, k.object_path)).toBe(true);
          expect(store.get(k.bucket_id, k.object_path)).toBeDefined();
        }
      });

      it('a failing store leaves rows and bytes in place, postponed, and a later run removes them', async () => {
        const names = await queueObjects(2);
        const memory = createMemoryObjectStore();
        for (const n of names) memory.put(bucketId, n, new Uint8Array([3]));
        let failures = 1;
        const flaky: EmbeddedObjectStore = {
          async remove(bucket, paths) {
            if (failures-- > 0) throw new Error('disk unavailable');
            await memory.remove(bucket, paths);
          },
        };
        expect(await drainEmbeddedStorageDeletions(db, flaky)).toMatchObject({
          claimed: 2,
          removed: 0,
          postponed: 2,
        });
        expect(await remainingObjects()).toBe(2);
        expect(memory.size).toBe(2);
        expect((await queuedDeletions(db, { pendingOnly: true }))[0]).toMatchObject({
          attempts: 1,
          last_error: 'disk unavailable',
        });

        await makeDeletionsDue(db);
        expect(await drainEmbeddedStorageDeletions(db, flaky)).toMatchObject({ claimed: 2, removed: 2 });
        expect(await remainingObjects()).toBe(0);
        expect(memory.size).toBe(0);
      });

      it("accepts the embedded backend's `bucket/path` byte map as the store", async () => {
        const names = await queueObjects(2);
        const bytes = new Map<string, Uint8Array>([
          ...names.map((n) => [`${bucketId}/${n}`, new Uint8Array([4])] as const),
          [`${bucketId}/kept`, new Uint8Array([5])],
        ]);
        expect(await drainEmbeddedStorageDeletions(db, bytes)).toMatchObject({ claimed: 2, removed: 2 });
        expect([...bytes.keys()]).toEqual([`${bucketId}/kept`]);
      });

      it('claims batchSize rows at a time', async () => {
        await queueObjects(5);
        expect(
          await drainEmbeddedStorageDeletions(db, createMemoryObjectStore(), { batchSize: 2 }),
        ).toMatchObject({
          claimed: 5,
          removed: 5,
          batches: 3,
        });
      });

      it('two workers at once remove every object exactly once', async () => {
        const names = await queueObjects(300);
        const removed: string[] = [];
        const recording: EmbeddedObjectStore = {
          remove: async (_bucket, paths) => void removed.push(...paths),
        };
        const [a, b] = await Promise.all([
          drainEmbeddedStorageDeletions(db, recording, { batchSize: 40 }),
          drainEmbeddedStorageDeletions(db, recording, { batchSize: 40 }),
        ]);
        expect(a.removed + b.removed).toBe(300);
        expect(a.removed).toBeGreaterThan(0);
        expect(b.removed).toBeGreaterThan(0);
        expect(removed.sort()).toEqual(names);
        expect(await remainingObjects()).toBe(0);
      });
    });
  });
}

// Sweeps and drains racing on a real PostgreSQL server (runs when DATABASE_URL is set): separate
// connections, FOR UPDATE SKIP LOCKED for real. No row is processed twice, none is lost, and a
// sweep never waits for another.
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  drainEmbeddedStorageDeletions,
  drainStorageDeletions,
  type EmbeddedObjectStore,
} from '../../src/adapters/storage-deletions.js';
import { actAs } from '../../src/db/client.js';
import { createUser, resetDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';
import { createPgDb, hasServer, type PgTestDb } from '../support/pg.js';
import {
  putLooseObject,
  queuedDeletions,
  runSweep,
  seedEntities,
  sweepUntilQuiet,
  type SweepCounts,
} from '../support/sweep.js';
import { SERVICE_KEY, startFakeSupabase } from './fake-supabase.js';

const DRAFTS = 400;
const IDLE_UPLOADS = 200;
const OLD_FAILED = 200;
const ORPHANS = 100;
const COMPLETED = 3;

describe.skipIf(!hasServer)('sweep and drain races (real server)', () => {
  let db: PgTestDb;
  let kind: string;
  let bucketId: string;

  beforeAll(async () => {
    db = await createPgDb({ poolSize: 12 });
  });
  afterAll(async () => {
    await db?.close();
  });

  beforeEach(async () => {
    await resetDb(db);
    const owners = [await createUser(db), await createUser(db)];
    ({ kind, bucketId } = await defineKind(db));
    for (let i = 0; i < COMPLETED; i++) await entityAt(db, kind, owners[0]!, 'completed');
    const old = 24 * 8;
    await seedEntities(db, { kind, owners, status: 'completed', count: 50, ageHours: old });
    await seedEntities(db, { kind, owners, status: 'draft', count: DRAFTS, ageHours: old });
    await seedEntities(db, { kind, owners, status: 'uploading', count: IDLE_UPLOADS, ageHours: 30 });
    await seedEntities(db, { kind, owners, status: 'failed', count: OLD_FAILED, ageHours: old });
    await seedEntities(db, { kind, owners, status: 'draft', count: 20, ageHours: 1 });
    for (let i = 0; i < ORPHANS; i++)
      await putLooseObject(db, bucketId, `orphan/${String(i).padStart(4, '0')}`, 2);
    await db.query('analyze');
  });

  async function eventCounts() {
    const { rows } = await db.query<{ deletes: number; fails: number; max_per_entity: number }>(
      `select count(*) filter (where event = 'delete')::integer as deletes,
              count(*) filter (where event = 'fail' and detail ->> 'failure_reason' = 'expired')::integer as fails,
              coalesce(max(n), 0)::integer as max_per_entity
       from upload_lifecycle.entity_events,
            lateral (select count(*) as n from upload_lifecycle.entity_events e2
                     where e2.entity_id = entity_events.entity_id and e2.event = entity_events.event) c`,
    );
    return rows[0]!;
  }

  async function expectEverythingProcessedOnce() {
    expect(await eventCounts()).toEqual({
      deletes: DRAFTS + OLD_FAILED,
      fails: IDLE_UPLOADS,
      max_per_entity: 1,
    });
    const queued = await queuedDeletions(db);
    expect(queued).toHaveLength(OLD_FAILED + ORPHANS);
    expect(new Set(queued.map((d) => `${d.bucket_id}/${d.object_path}`)).size).toBe(queued.length);
    const { rows } = await db.query<{ status: string; n: number }>(
      `select status::text, count(*)::integer as n from upload_lifecycle.entities group by 1 order by 1`,
    );
    expect(rows).toEqual([
      { status: 'completed', n: COMPLETED + 50 },
      { status: 'draft', n: 20 },
      { status: 'failed', n: IDLE_UPLOADS },
    ]);
  }

  it('a sweep skips the rows another open sweep holds, without waiting, and takes the rest', async () => {
    const first = await db.pool.connect();
    try {
      await first.query('begin');
      await actAs(
        { query: (t, p) => first.query(t, p as unknown[]) as never, exec: (t) => first.query(t) },
        {
          role: 'service_role',
        },
      );
      const held = (
        await first.query<{ counts: SweepCounts }>(
          `select public.sweep_upload_lifecycle(now(), 150) as counts`,
        )
      ).rows[0]!.counts;
      expect(held).toMatchObject({ drafts_deleted: 150, uploads_expired: 150, failed_deleted: 150 });

      // The second sweep runs while the first is still open: SKIP LOCKED, so it must not block.
      const second = await db.transaction(async (tx) => {
        await tx.query(`set local statement_timeout = '10s'`);
        await actAs(tx, { role: 'service_role' });
        const { rows } = await tx.query<{ counts: SweepCounts }>(
          `select public.sweep_upload_lifecycle(now(), 1000) as counts`,
        );
        return rows[0]!.counts;
      });
      expect(second).toMatchObject({
        drafts_deleted: DRAFTS - 150,
        uploads_expired: IDLE_UPLOADS - 150,
        failed_deleted: OLD_FAILED - 150,
        // The first sweep holds the orphan cursor: the second skips the scan rather than wait.
        objects_scanned: 0,
      });
      await first.query('commit');
    } catch (error) {
      await first.query('rollback');
      throw error;
    } finally {
      first.release();
    }
    await sweepUntilQuiet(db);
    await expectEverythingProcessedOnce();
  });

  it('two sweeps looping at once process every row exactly once', async () => {
    const loop = async () => {
      const totals = { drafts: 0, expired: 0, failed: 0, orphans: 0 };
      for (let i = 0; i < 200; i++) {
        const c = await runSweep(db, {}, 40);
        totals.drafts += c.drafts_deleted;
        totals.expired += c.uploads_expired;
        totals.failed += c.failed_deleted;
        totals.orphans += c.orphans_queued;
        if (c.drafts_deleted + c.uploads_expired + c.failed_deleted === 0 && c.orphan_pass_complete) break;
      }
      return totals;
    };
    const [a, b] = await Promise.all([loop(), loop()]);
    await sweepUntilQuiet(db);
    expect(a.drafts + b.drafts).toBe(DRAFTS);
    expect(a.expired + b.expired).toBe(IDLE_UPLOADS);
    expect(a.failed + b.failed).toBe(OLD_FAILED);
    await expectEverythingProcessedOnce();
  });

  it('two embedded drains at once remove every queued object exactly once, and nothing else', async () => {
    await sweepUntilQuiet(db);
    const queued = await queuedDeletions(db, { pendingOnly: true });
    expect(queued).toHaveLength(OLD_FAILED + ORPHANS);
    const { rows: before } = await db.query<{ n: number }>(
      `select count(*)::integer as n from storage.objects`,
    );
    const removed: string[] = [];
    const store: EmbeddedObjectStore = {
      remove: async (bucket, paths) => void removed.push(...paths.map((p) => `${bucket}/${p}`)),
    };
    const [a, b] = await Promise.all([
      drainEmbeddedStorageDeletions(db, store, { batchSize: 25 }),
      drainEmbeddedStorageDeletions(db, store, { batchSize: 25 }),
    ]);
    expect(a.removed + b.removed).toBe(queued.length);
    expect(a.postponed + b.postponed).toBe(0);
    expect(removed.sort()).toEqual(queued.map((d) => `${d.bucket_id}/${d.object_path}`).sort());
    const { rows: after } = await db.query<{ n: number }>(
      `select count(*)::integer as n from storage.objects`,
    );
    expect(after[0]!.n).toBe(before[0]!.n - queued.length);
    expect(await queuedDeletions(db, { pendingOnly: true })).toEqual([]);
  });

  it('two Supabase drains at once send every queued path to Storage exactly once', async () => {
    await sweepUntilQuiet(db);
    const queued = await queuedDeletions(db, { pendingOnly: true });
    const fake = await startFakeSupabase(db);
    class NoWebSocket {}
    const client = () =>
      createClient(fake.url, SERVICE_KEY, {
        auth: { persistSession: false, autoRefreshToken: false },
        realtime: { transport: NoWebSocket as never },
      });
    try {
      const [a, b] = await Promise.all([
        drainStorageDeletions(client(), { batchSize: 30 }),
        drainStorageDeletions(client(), { batchSize: 30 }),
      ]);
      expect(a.removed + b.removed).toBe(queued.length);
      const sent = fake.removeCalls.flatMap((c) => c.prefixes.map((p) => `${c.bucketId}/${p}`)).sort();
      expect(sent).toEqual(queued.map((d) => `${d.bucket_id}/${d.object_path}`).sort());
      expect(await queuedDeletions(db, { pendingOnly: true })).toEqual([]);
    } finally {
      await fake.close();
    }
  });
});

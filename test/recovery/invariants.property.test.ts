// Recovery invariants as a property (fast-check, fixed seed): for random populations of entities
// of every status and age, files with and without objects, and loose objects, a sweep at a random
// time followed by a drain
//   * never deletes what is wanted — completed entities and their objects, drafts / uploads /
//     failed rows inside their TTL and their objects (rows and bytes);
//   * removes exactly what is expired, and fails idle uploads with reason `expired`;
// and a sweep + drain with the clock past every TTL leaves no orphan object and no expired row.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadStatus } from '../../src/machines/lifecycle.js';
import { createMemoryObjectStore } from '../../src/adapters/storage-deletions.js';
import { createPgliteDb, createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind, forceObject, registerFile, setStatus } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';
import {
  ageEntity,
  expiredRows,
  orphanObjects,
  putLooseObject,
  queuedDeletions,
  recover,
} from '../support/sweep.js';

const HOUR = 1;
const DRAFT_TTL = 24 * HOUR;
const UPLOAD_TTL = 24 * HOUR;
const FAILED_TTL = 24 * 7 * HOUR;
const ORPHAN_GRACE = 1 * HOUR;

interface EntitySpec {
  // The sweep's TTL steps; `processing` (jobs) has its own sweep tests in test/contract/job-rpcs.test.ts.
  status: Exclude<UploadStatus, 'processing'>;
  /**
   * Age relative to the entity's TTL at the sweep's time: the last status change happened
   * `ttl + ttlOffset - sweepAt` hours ago (at least 0), so offsets -1, 0, +1 sit on the boundary.
   */
  ttlOffset: number;
  /** Hours since the last status change (derived from ttlOffset when built). */
  ageHours: number;
  /** Files registered at that change, with or without their object. */
  files: boolean[];
  /**
   * For uploads: a file registered after the status change (activity), given like ttlOffset as an
   * offset to upload_ttl when generated, in hours ago once built.
   */
  recentFileAgeHours: number | null;
}

const entitySpec: fc.Arbitrary<EntitySpec> = fc.record({
  status: fc.constantFrom<Exclude<UploadStatus, 'processing'>>('draft', 'uploading', 'completed', 'failed'),
  ttlOffset: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -200, max: 200 })),
  ageHours: fc.constant(0),
  files: fc.array(fc.boolean(), { maxLength: 2 }),
  recentFileAgeHours: fc.option(fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -30, max: 30 })), {
    nil: null,
  }),
});

const population = fc.record({
  entities: fc.array(entitySpec, { minLength: 1, maxLength: 6 }),
  /** Like ttlOffset, against the orphan grace period. */
  orphanOffsets: fc.array(fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -3, max: 3 })), {
    maxLength: 3,
  }),
  sweepAtHours: fc.oneof(fc.constantFrom(0, 1, 23, 24, 25, 167, 168), fc.integer({ min: 0, max: 200 })),
});

interface Built {
  id: string;
  spec: EntitySpec;
  objects: { bucketId: string; name: string }[];
  /** Hours since the last activity the sweep counts (status change, file registration, object write). */
  idleHours: number;
}

let db: TestDb;
beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(async () => {
  await db.close();
});

async function ageFile(fileId: string, hours: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`set local session_replication_role = replica`);
    await tx.query(
      `update storage.objects o set created_at = o.created_at - $2 * interval '1 hour', updated_at = o.updated_at - $2 * interval '1 hour'
       from upload_lifecycle.entity_files f where f.id = $1 and o.bucket_id = f.bucket_id and o.name = f.object_path`,
      [fileId, hours],
    );
    await tx.query(
      `update upload_lifecycle.entity_files set created_at = created_at - $2 * interval '1 hour' where id = $1`,
      [fileId, hours],
    );
  });
}

async function build(kind: string, owner: string, spec: EntitySpec): Promise<Built> {
  const objects: Built['objects'] = [];
  let id: string;
  if (spec.status === 'draft' || spec.status === 'completed') {
    id = await entityAt(db, kind, owner, spec.status);
  } else {
    id = await entityAt(db, kind, owner, 'uploading');
    for (const withObject of spec.files) {
      const file = await registerFile(db, id, { slot: 'photos', mime: 'image/png', size: 10 });
      if (withObject) {
        await forceObject(db, owner, file);
        objects.push({ bucketId: file.bucketId, name: file.objectPath });
      }
    }
    if (spec.status === 'failed') await setStatus(db, id, 'failed');
  }
  await ageEntity(db, id, spec.ageHours);
  let idleHours = spec.ageHours;
  if (
    spec.status === 'uploading' &&
    spec.recentFileAgeHours !== null &&
    spec.recentFileAgeHours < spec.ageHours
  ) {
    const file = await registerFile(db, id, { slot: 'photos', mime: 'image/png', size: 10 }).catch(
      () => null,
    );
    if (file) {
      await ageFile(file.id, spec.recentFileAgeHours);
      idleHours = spec.recentFileAgeHours;
    }
  }
  if (spec.status === 'completed') {
    const { rows } = await db.query<{ bucket_id: string; object_path: string }>(
      `select bucket_id, object_path from upload_lifecycle.entity_files where entity_id = $1`,
      [id],
    );
    objects.push(...rows.map((r) => ({ bucketId: r.bucket_id, name: r.object_path })));
  }
  return { id, spec, objects, idleHours };
}

/** What the sweep at `t` hours from now must leave of an entity: its status, or null (deleted). */
function expectedStatus(b: Built, t: number): UploadStatus | null {
  switch (b.spec.status) {
    case 'completed':
      return 'completed';
    case 'draft':
      return b.spec.ageHours + t >= DRAFT_TTL ? null : 'draft';
    case 'failed':
      return b.spec.ageHours + t >= FAILED_TTL ? null : 'failed';
    case 'uploading':
      if (b.idleHours + t < UPLOAD_TTL) return 'uploading';
      // Failed now, at the sweep's transaction time: deleted in the same sweep when t >= failed_ttl.
      return t >= FAILED_TTL ? null : 'failed';
  }
}

async function statusAndReason(id: string) {
  const { rows } = await db.query<{ status: UploadStatus; failure_reason: string | null }>(
    `select status, failure_reason from upload_lifecycle.entities where id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

async function objectsPresent(): Promise<Set<string>> {
  const { rows } = await db.query<{ key: string }>(
    `select bucket_id || '/' || name as key from storage.objects`,
  );
  return new Set(rows.map((r) => r.key));
}

describe('recovery invariants (property)', () => {
  it('sweep + drain delete exactly what is expired, and past every TTL leave nothing expired or orphaned', async () => {
    await fc.assert(
      fc.asyncProperty(population, async ({ entities, orphanOffsets, sweepAtHours }) => {
        await resetDb(db);
        const owner = await createUser(db);
        const { kind, bucketId } = await defineKind(db);
        const built: Built[] = [];
        for (const spec of entities) {
          const ttl = { draft: DRAFT_TTL, uploading: UPLOAD_TTL, failed: FAILED_TTL, completed: 0 }[
            spec.status
          ];
          const ageHours = Math.max(0, ttl + spec.ttlOffset - sweepAtHours);
          const recentFileAgeHours =
            spec.recentFileAgeHours === null
              ? null
              : Math.max(0, UPLOAD_TTL + spec.recentFileAgeHours - sweepAtHours);
          built.push(await build(kind, owner, { ...spec, ageHours, recentFileAgeHours }));
        }
        const orphans = orphanOffsets.map((offset, i) => ({
          bucketId,
          name: `loose/${i}`,
          age: Math.max(0, ORPHAN_GRACE + offset - sweepAtHours),
        }));
        for (const o of orphans) await putLooseObject(db, o.bucketId, o.name, o.age);
        const store = createMemoryObjectStore();
        for (const key of await objectsPresent()) {
          const slash = key.indexOf('/');
          store.put(key.slice(0, slash), key.slice(slash + 1), new Uint8Array([1]));
        }

        // Phase 1: a sweep at a random time deletes exactly what is expired, nothing wanted.
        await recover(db, { hours: sweepAtHours }, store);
        const present = await objectsPresent();
        for (const b of built) {
          const want = expectedStatus(b, sweepAtHours);
          const row = await statusAndReason(b.id);
          expect(row?.status ?? null, `${b.spec.status} aged ${b.idleHours} h at +${sweepAtHours} h`).toBe(
            want,
          );
          if (b.spec.status === 'uploading' && want === 'failed') expect(row!.failure_reason).toBe('expired');
          for (const o of b.objects) {
            const key = `${o.bucketId}/${o.name}`;
            expect(present.has(key), `object of a ${want ?? 'deleted'} entity`).toBe(want !== null);
            expect(store.get(o.bucketId, o.name) !== undefined).toBe(want !== null);
          }
        }
        for (const o of orphans) {
          expect(present.has(`${o.bucketId}/${o.name}`)).toBe(o.age + sweepAtHours < ORPHAN_GRACE);
        }

        // Phase 2: the clock past every TTL — only completed entities and their objects remain.
        const far = { hours: FAILED_TTL + UPLOAD_TTL + 24 * 30 };
        await recover(db, far, store);
        expect(await orphanObjects(db)).toEqual([]);
        expect(await expiredRows(db, far)).toEqual([]);
        expect(await queuedDeletions(db, { pendingOnly: true })).toEqual([]);
        const { rows } = await db.query<{ status: UploadStatus }>(
          `select status from upload_lifecycle.entities`,
        );
        expect(rows.every((r) => r.status === 'completed')).toBe(true);
        const completed = built.filter((b) => b.spec.status === 'completed');
        expect(rows).toHaveLength(completed.length);
        const finalObjects = await objectsPresent();
        expect(finalObjects).toEqual(
          new Set(completed.flatMap((b) => b.objects.map((o) => `${o.bucketId}/${o.name}`))),
        );
        expect(store.size).toBe(finalObjects.size);
      }),
      { seed: 20_261_122, numRuns: Number(process.env.RECOVERY_RUNS ?? 30), endOnFailure: true },
    );
  });
});

// Races on a real PostgreSQL server: several connections, each a transaction whose statements
// are released in an order fast-check's scheduler picks from the seed (statements then run for
// real, so a lock makes a connection wait exactly as in production). After every interleaving
// the outcome is one the lifecycle allows and the database invariants hold.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimsOf, type Actor } from '../../src/db/client.js';
import { writeStorageObject } from '../../src/db/storage-write.js';
import { service, user } from '../support/db.js';
import { MODEL_USERS } from '../support/model-lifecycle.js';
import { createPgDb, hasServer, type PgTestDb } from '../support/pg.js';
import { shiftTimestamps } from './commands/index.js';
import { rpcDriver } from './driver.js';
import { DEFAULT_SEED, prepareDatabase, resetForRun } from './harness.js';
import { checkDatabaseInvariants, readState } from './invariants.js';

const RUNS = Number(process.env.PROPERTY_RACE_RUNS ?? 25);
const SEED = process.env.PROPERTY_SEED ? Number(process.env.PROPERTY_SEED) : DEFAULT_SEED;
const owner = MODEL_USERS[0];

type Outcome = { ok: true; rows: Record<string, unknown>[] } | { ok: false; code: string };

const codeOf = (o: Outcome) => (o.ok ? 'ok' : o.code);

/**
 * One transaction on its own connection. Each statement waits for the scheduler to release it,
 * so the seed decides the order in which the racers' statements reach the server.
 */
async function racer(
  db: PgTestDb,
  s: fc.Scheduler,
  label: string,
  actor: Actor,
  sql: string,
  params: unknown[],
  setup: string[] = [],
): Promise<Outcome> {
  const client = await db.pool.connect();
  try {
    await s.schedule(Promise.resolve(), `${label}: begin`);
    await client.query('begin');
    const claims = claimsOf(actor);
    if (claims)
      await client.query(`select set_config('request.jwt.claims', $1, true), set_config('role', $2, true)`, [
        JSON.stringify(claims),
        actor.role,
      ]);
    for (const statement of setup) await client.query(statement);
    await s.schedule(Promise.resolve(), `${label}: call`);
    const { rows } = await client.query<Record<string, unknown>>(sql, params);
    await s.schedule(Promise.resolve(), `${label}: commit`);
    await client.query('commit');
    return { ok: true, rows };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    const code = (error as { code?: string }).code;
    if (!code || !/^(UL00[1-6]|42501)$/.test(code)) throw error;
    return { ok: false, code };
  } finally {
    client.release();
  }
}

/** An `uploading` report of u0 whose requirements are met: finalize would succeed. */
async function readyEntity(db: PgTestDb): Promise<string> {
  return (await readyEntityWithFile(db)).id;
}

async function readyEntityWithFile(
  db: PgTestDb,
): Promise<{ id: string; bucketId: string; objectPath: string }> {
  const id = await rpcDriver.create(db, user(owner), owner, 'report');
  await rpcDriver.begin(db, user(owner), id);
  const file = await rpcDriver.register(db, user(owner), id, {
    slot: 'document',
    filename: 'a.pdf',
    size: 100,
    mime: 'application/pdf',
  });
  await writeStorageObject(db, {
    bucketId: file.bucketId,
    name: file.objectPath,
    ownerId: owner,
    size: 100,
    mimetype: 'application/pdf',
  });
  return { id, bucketId: file.bucketId, objectPath: file.objectPath };
}

async function eventsOf(db: PgTestDb, id: string): Promise<string[]> {
  const { rows } = await db.query<{ event: string }>(
    `select event from upload_lifecycle.entity_events where entity_id = $1 order by id`,
    [id],
  );
  return rows.map((r) => r.event);
}

async function statusOf(db: PgTestDb, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>(
    `select status from upload_lifecycle.entities where id = $1`,
    [id],
  );
  return rows[0]?.status;
}

const finalize = `select public.finalize_upload(entity_id => $1::uuid)`;

describe.skipIf(!hasServer)('on PostgreSQL, racing connections', () => {
  let db: PgTestDb;
  beforeAll(async () => {
    db = await createPgDb({ poolSize: 8 });
    await prepareDatabase(db);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeAll(() => {
    console.log(`[races] seed=${SEED} runs=${RUNS} per race (PROPERTY_SEED, PROPERTY_RACE_RUNS)`);
  });

  /**
   * Runs `scenario` under RUNS seeded interleavings; the database invariants hold after each.
   * The scenario returns which outcome it saw; the tally is printed, to show both sides won.
   */
  async function interleavings(name: string, scenario: (s: fc.Scheduler) => Promise<string>): Promise<void> {
    const tally = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        await resetForRun(db);
        const outcome = await scenario(s);
        tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
        checkDatabaseInvariants(await readState(db));
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`[races] ${name}: ${[...tally].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  }

  it('three concurrent finalizes of one entity complete it once: one audit event, every call answered', async () => {
    await interleavings('finalize ×3', async (s) => {
      const id = await readyEntity(db);
      const results = await s.waitFor(
        Promise.all([
          racer(db, s, 'owner A', user(owner), finalize, [id]),
          racer(db, s, 'owner B', user(owner), finalize, [id]),
          racer(db, s, 'service', service, finalize, [id]),
        ]),
      );
      expect(results.map(codeOf)).toEqual(['ok', 'ok', 'ok']);
      expect(await statusOf(db, id)).toBe('completed');
      expect((await eventsOf(db, id)).filter((e) => e === 'finalize')).toHaveLength(1);
      return 'one completion';
    });
  });

  it('finalize racing a new file registration: either the file is refused or finalize is, never a completed entity with an unchecked file', async () => {
    await interleavings('finalize vs register', async (s) => {
      const id = await readyEntity(db);
      const [done, registered] = await s.waitFor(
        Promise.all([
          racer(db, s, 'finalize', user(owner), finalize, [id]),
          racer(
            db,
            s,
            'register',
            user(owner),
            `select public.register_upload_file(entity_id => $1::uuid, slot => 'photos', filename => 'late.png', size => 10, mime => 'image/png')`,
            [id],
          ),
        ]),
      );
      const status = await statusOf(db, id);
      if (done.ok) {
        // Finalize went first: the entity is final and the late file was refused.
        expect(status).toBe('completed');
        expect(codeOf(registered)).toBe('UL005');
      } else {
        // The file got in first: it has no object yet, so finalize must refuse.
        expect(codeOf(done)).toBe('UL002');
        expect(codeOf(registered)).toBe('ok');
        expect(status).toBe('uploading');
      }
      return done.ok ? 'finalize first' : 'registration first';
    });
  });

  it('finalize racing fail: exactly one wins, the other is a forbidden transition', async () => {
    await interleavings('finalize vs fail', async (s) => {
      const id = await readyEntity(db);
      const [done, failed] = await s.waitFor(
        Promise.all([
          racer(db, s, 'finalize', user(owner), finalize, [id]),
          racer(
            db,
            s,
            'fail',
            service,
            `select public.fail_upload(entity_id => $1::uuid, reason => 'worker')`,
            [id],
          ),
        ]),
      );
      const status = await statusOf(db, id);
      const events = (await eventsOf(db, id)).filter((e) => e === 'finalize' || e === 'fail');
      expect(done.ok !== failed.ok).toBe(true);
      expect(status).toBe(done.ok ? 'completed' : 'failed');
      expect(events).toEqual([done.ok ? 'finalize' : 'fail']);
      expect(codeOf(done.ok ? failed : done)).toBe('UL001');
      return done.ok ? 'finalize won' : 'fail won';
    });
  });

  // Found by this suite: the storage DELETE policy read the entity's status without a lock, so a
  // removal whose statement ran before finalize committed could commit after it. Fixed by
  // 0022_storage_object_guard.sql (a row trigger that locks the entity FOR SHARE).
  it('finalize racing the removal of its object through the Storage API: never a completed entity without its object', async () => {
    await interleavings('finalize vs object removal', async (s) => {
      const { id, bucketId, objectPath } = await readyEntityWithFile(db);
      const [done, removed] = await s.waitFor(
        Promise.all([
          racer(db, s, 'finalize', user(owner), finalize, [id]),
          racer(
            db,
            s,
            'remove object',
            user(owner),
            `delete from storage.objects where bucket_id = $1 and name = $2 returning id`,
            [bucketId, objectPath],
            [`select set_config('storage.allow_delete_query', 'true', true)`],
          ),
        ]),
      );
      const removedRows = removed.ok ? removed.rows.length : 0;
      // The invariants (checked after the scenario) require a completed entity's object to exist.
      return `finalize ${codeOf(done)}, object ${removedRows ? 'removed' : 'kept'}`;
    });
  });

  it('a removal begun before finalize commits first and finalize answers UL002; the entity stays uploading', async () => {
    await resetForRun(db);
    const { id, bucketId, objectPath } = await readyEntityWithFile(db);
    const remover = await db.pool.connect();
    try {
      await remover.query('begin');
      await remover.query(
        `select set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)`,
        [JSON.stringify(claimsOf(user(owner)))],
      );
      await remover.query(`select set_config('storage.allow_delete_query', 'true', true)`);
      const { rows } = await remover.query(
        `delete from storage.objects where bucket_id = $1 and name = $2 returning id`,
        [bucketId, objectPath],
      );
      expect(rows).toHaveLength(1); // allowed: the entity is still uploading
      // Finalize on another connection now waits for the removal's lock on the entity…
      const finalizing = rpcDriver.finalize(db, user(owner), id).then(
        () => 'completed',
        (error: { code?: string }) => error.code,
      );
      await remover.query('commit');
      // …and then sees the object gone.
      expect(await finalizing).toBe('UL002');
    } finally {
      remover.release();
    }
    expect(await statusOf(db, id)).toBe('uploading');
    checkDatabaseInvariants(await readState(db));
  });

  it('three sweeps racing process every expired row exactly once', async () => {
    await interleavings('sweep ×3', async (s) => {
      const drafts: string[] = [];
      const uploading: string[] = [];
      const failed: string[] = [];
      for (const u of MODEL_USERS) {
        drafts.push(await rpcDriver.create(db, user(u), u, 'song'));
        const up = await rpcDriver.create(db, user(u), u, 'report');
        await rpcDriver.begin(db, user(u), up);
        uploading.push(up);
        const f = await rpcDriver.create(db, user(u), u, 'note');
        await rpcDriver.begin(db, user(u), f);
        await rpcDriver.fail(db, user(u), f, 'client_error');
        failed.push(f);
      }
      await shiftTimestamps(db, 24 * 8); // past every TTL (1 day, 1 day, 7 days)
      const results = await s.waitFor(
        Promise.all(
          ['sweep 1', 'sweep 2', 'sweep 3'].map((label) =>
            racer(db, s, label, service, `select public.sweep_upload_lifecycle() as counts`, []),
          ),
        ),
      );
      const total = (key: string) =>
        results.reduce((sum, r) => {
          if (!r.ok) throw new Error(`a sweep failed: ${r.code}`);
          return sum + Number((r.rows[0]!.counts as Record<string, number>)[key]);
        }, 0);
      expect(total('drafts_deleted')).toBe(drafts.length);
      expect(total('uploads_expired')).toBe(uploading.length);
      expect(total('failed_deleted')).toBe(failed.length);
      for (const id of drafts) {
        expect(await statusOf(db, id)).toBeUndefined();
        expect((await eventsOf(db, id)).filter((e) => e === 'delete')).toHaveLength(1);
      }
      for (const id of uploading) {
        expect(await statusOf(db, id)).toBe('failed');
        expect((await eventsOf(db, id)).filter((e) => e === 'fail')).toHaveLength(1);
      }
      for (const id of failed) {
        expect(await statusOf(db, id)).toBeUndefined();
        expect((await eventsOf(db, id)).filter((e) => e === 'delete')).toHaveLength(1);
      }
      return (
        results
          .map((r) => (r.ok ? Number((r.rows[0]!.counts as Record<string, number>).drafts_deleted) : -1))
          .join('+') + ' drafts'
      );
    });
  });
});

/**
 * Finalize throughput (DESIGN.md §5), on the real server only (PGlite has one connection).
 *
 * Throughput: `finalize_upload` as each entity's owner (the PostgREST way: a transaction with role
 * and claims set), on distinct entities, by 8 connections (a pg Pool of 8, 8 workers taking the
 * next entity) vs. 1 connection (a Pool of 1, 1 worker). The entities are put in place before each
 * timing by `seedEntities` (uploading, one registered file and its stored object each, spread over
 * 16 owners), so only the finalize calls are timed. Rounds alternate the two (`ratioRounds`).
 * Figure: finalizes per second with 8 / with 1 (target ≥ 1.6 on 2 cores), and both rates.
 *
 * Race: the same entity finalized by 8 connections at once, `trials` times. finalize_upload locks
 * the entity, so one call completes it and the others, waiting on the lock, find it completed and
 * answer its state (idempotent). Figures: calls that failed (must be 0) and `completed` audit
 * events per entity (must be 1); the section throws if either is violated.
 *
 * `npx tsx bench/finalize.ts [--quick]` (needs DATABASE_URL); also a `Section` for bench/run.ts.
 */
import pg from 'pg';
import { pathToFileURL } from 'node:url';
import { figure, median, ratioRounds, type BenchContext, type Figure, type Section } from './lib.js';
import { createUser, resetDb, user, type SqlClient } from '../test/support/db.js';
import { defineKind } from '../test/support/fixtures.js';
import { createPgDb, fromPgPool, quietOnTermination, type PgTestDb } from '../test/support/pg.js';
import { seedEntities } from '../test/support/sweep.js';
import { rpc } from '../test/contract/support.js';

interface Target {
  id: string;
  owner: string;
}

const OWNERS = 16;

/** `count` entities in `uploading` that finalize can complete; returns them (new ones only). */
async function seedUploading(db: PgTestDb, kind: string, owners: string[], count: number): Promise<Target[]> {
  const before = await db.query<{ id: string }>(
    `select id from upload_lifecycle.entities where status = 'uploading'`,
  );
  if (before.rows.length > 0) throw new Error('unfinished entities left from an earlier timing');
  await seedEntities(db, { kind, owners, status: 'uploading', count, ageHours: 0 });
  const { rows } = await db.query<{ id: string; owner_id: string }>(
    `select id, owner_id from upload_lifecycle.entities where status = 'uploading'`,
  );
  if (rows.length !== count) throw new Error(`expected ${count} uploading entities, found ${rows.length}`);
  return rows.map((r) => ({ id: r.id, owner: r.owner_id }));
}

/** Finalizes every target with `workers` concurrent workers over `client`; resolves to finalizes/s. */
async function finalizeAll(client: SqlClient, targets: Target[], workers: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < targets.length) {
        const t = targets[next++]!;
        const state = await rpc(client, user(t.owner), 'finalize_upload', { entity_id: t.id });
        if (state.status !== 'completed') throw new Error(`finalize left ${t.id} ${state.status}`);
      }
    }),
  );
  return targets.length / ((performance.now() - started) / 1000);
}

async function warm(pool: pg.Pool, connections: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  for (const c of clients) c.release();
}

export const finalize: Section = async (ctx: BenchContext): Promise<Figure[]> => {
  if (!ctx.databaseUrl) {
    ctx.log('finalize: skipped (DATABASE_URL not set)');
    return [];
  }
  const { rounds, perRound, trials } = ctx.quick
    ? { rounds: 3, perRound: 40, trials: 3 }
    : { rounds: 7, perRound: 200, trials: 20 };
  const db = await createPgDb({ poolSize: 2 });
  const pool8 = quietOnTermination(new pg.Pool({ connectionString: db.url, max: 8 }));
  const pool1 = quietOnTermination(new pg.Pool({ connectionString: db.url, max: 1 }));
  const eight = fromPgPool(pool8);
  const one = fromPgPool(pool1);
  try {
    await resetDb(db);
    const owners: string[] = [];
    for (let i = 0; i < OWNERS; i++) owners.push(await createUser(db));
    const { kind } = await defineKind(db);
    await warm(pool8, 8);
    await warm(pool1, 1);

    const run = async (client: SqlClient, workers: number) =>
      finalizeAll(client, await seedUploading(db, kind, owners, perRound), workers);
    // Warm-up: plans cached on every connection.
    await run(eight, 8);
    await run(one, 1);
    const {
      ratios,
      as: rate8,
      bs: rate1,
    } = await ratioRounds(
      rounds,
      () => run(eight, 8),
      () => run(one, 1),
    );
    ctx.log(
      `finalize/s with 8: ${median(rate8).toFixed(0)}, with 1: ${median(rate1).toFixed(0)} (ratios ${ratios.map((r) => r.toFixed(2)).join(' ')})`,
    );

    // Race: one entity, 8 finalize calls at once.
    let errors = 0;
    const completedEvents: number[] = [];
    for (let i = 0; i < trials; i++) {
      const [target] = await seedUploading(db, kind, owners, 1);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          rpc(eight, user(target!.owner), 'finalize_upload', { entity_id: target!.id }),
        ),
      );
      for (const r of results) {
        if (r.status === 'rejected') {
          errors++;
          ctx.log(`race: a finalize failed: ${String((r.reason as Error).message)}`);
        } else if (r.value.status !== 'completed') {
          errors++;
          ctx.log(`race: a finalize answered ${r.value.status}`);
        }
      }
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from upload_lifecycle.entity_events where entity_id = $1 and to_status = 'completed'`,
        [target!.id],
      );
      completedEvents.push(rows[0]!.n);
    }
    const wrongEvents = completedEvents.filter((n) => n !== 1).length;
    ctx.log(
      `race: ${trials} entities × 8 concurrent finalizes: ${errors} errors, completed events ${completedEvents.join(',')}`,
    );
    if (errors > 0 || wrongEvents > 0)
      throw new Error(
        `finalize race violated: ${errors} failed calls, ${wrongEvents} entities without exactly one completed event`,
      );

    return [
      figure(
        'finalize throughput 8 connections / 1 (PostgreSQL)',
        ratios,
        'ratio',
        { op: '>=', value: 1.6 },
        `${perRound} distinct entities per timing, as their owners`,
      ),
      figure('finalizes per second, 8 connections (PostgreSQL)', rate8, 'finalize/s'),
      figure('finalizes per second, 1 connection (PostgreSQL)', rate1, 'finalize/s'),
      {
        name: 'same entity finalized by 8 at once: errors',
        value: errors,
        unit: 'errors',
        target: '= 0',
        met: errors === 0,
        rounds: trials,
        note: `${trials} entities × 8 concurrent calls`,
      },
      {
        name: 'same entity finalized by 8 at once: completed events',
        value: median(completedEvents),
        unit: 'events',
        target: '= 1',
        met: wrongEvents === 0,
        spread: [Math.min(...completedEvents), Math.max(...completedEvents)],
        rounds: trials,
      },
    ];
  } finally {
    await pool8.end();
    await pool1.end();
    await db.close();
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await finalize({
    quick: process.argv.includes('--quick'),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  for (const f of figures) console.log(JSON.stringify(f));
}

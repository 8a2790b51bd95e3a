/**
 * Sweep benchmark (DESIGN.md §5): the sweep's cost must grow with the work it finds, not with the
 * tables. Two databases on the real server hold the same expired work — drafts past draft_ttl,
 * uploads idle past upload_ttl, failed rows past failed_ttl with their files and objects — among
 * 100k and 1M entities in total (the rest completed, each with a verified file and its object).
 * Each round re-creates the expired work in both databases and times sweep calls (batch 1000)
 * until no expired row is left, alternating the two databases so drift hits both.
 *
 * Figures: sweep time at 1M / at 100k (target ≤ 1.3), and expired rows handled per second at 1M.
 * The orphan scan examines `batch` objects per call wherever it stands, so it costs the same in
 * both databases; it is not run to the end of a pass (that takes objects / batch calls by design).
 *
 * Bulk load: `seedEntities` inserts set-based (`insert … select generate_series`) with
 * `session_replication_role = replica` for the load transaction only — triggers off, rows shaped
 * as the lifecycle leaves them; the sweep itself always runs with every trigger on.
 *
 * `npx tsx bench/sweep.ts [--quick]` (needs DATABASE_URL; `--quick`: 10k vs 100k, 3 rounds).
 * Also a `Section` for bench/run.ts.
 */
import { pathToFileURL } from 'node:url';
import { figure, median, type BenchContext, type Figure, type Section } from './lib.js';
import { createUser, resetDb } from '../test/support/db.js';
import { defineKind } from '../test/support/fixtures.js';
import { createPgDb, type PgTestDb } from '../test/support/pg.js';
import { runSweep, seedEntities } from '../test/support/sweep.js';

const EXPIRED_EACH = 1000; // per kind of expired work: drafts, idle uploads, old failed rows
const EXPIRED_TOTAL = EXPIRED_EACH * 3;

interface Workload {
  db: PgTestDb;
  kind: string;
  owners: string[];
  total: number;
}

async function prepare(total: number, log: (line: string) => void): Promise<Workload> {
  const db = await createPgDb({ poolSize: 2 });
  await resetDb(db);
  const owners: string[] = [];
  for (let i = 0; i < 100; i++) owners.push(await createUser(db));
  const { kind } = await defineKind(db);
  const started = performance.now();
  const chunk = 250_000;
  for (let done = 0; done < total - EXPIRED_TOTAL; done += chunk) {
    const count = Math.min(chunk, total - EXPIRED_TOTAL - done);
    await seedEntities(db, { kind, owners, status: 'completed', count, ageHours: 24 * 30 });
  }
  await db.query('vacuum analyze');
  log(
    `loaded ${total.toLocaleString('en')} entities in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return { db, kind, owners, total };
}

/** Puts the expired work back (outside the timing) and clears the outbox of the last round. */
async function addExpiredWork(w: Workload): Promise<void> {
  await w.db.query('truncate upload_lifecycle.storage_deletions');
  const old = 24 * 8;
  await seedEntities(w.db, {
    kind: w.kind,
    owners: w.owners,
    status: 'draft',
    count: EXPIRED_EACH,
    ageHours: old,
  });
  await seedEntities(w.db, {
    kind: w.kind,
    owners: w.owners,
    status: 'uploading',
    count: EXPIRED_EACH,
    ageHours: 30,
  });
  await seedEntities(w.db, {
    kind: w.kind,
    owners: w.owners,
    status: 'failed',
    count: EXPIRED_EACH,
    ageHours: old,
  });
  await w.db.query('analyze upload_lifecycle.entities, upload_lifecycle.entity_files');
}

/** Milliseconds of sweep calls until one finds no expired row; checks every expired row was handled. */
async function timeSweep(w: Workload): Promise<number> {
  await addExpiredWork(w);
  let handled = 0;
  const started = performance.now();
  for (;;) {
    const c = await runSweep(w.db, {}, 1000);
    const found = c.drafts_deleted + c.uploads_expired + c.failed_deleted;
    handled += found;
    if (found === 0) break;
  }
  const ms = performance.now() - started;
  // Idle uploads are failed (not deleted: their failure is new), so 3 × EXPIRED_EACH rows handled.
  if (handled !== EXPIRED_TOTAL)
    throw new Error(`expected ${EXPIRED_TOTAL} expired rows handled, got ${handled}`);
  await w.db.query(`delete from upload_lifecycle.entities where status = 'failed'`);
  return ms;
}

export const sweep: Section = async (ctx: BenchContext): Promise<Figure[]> => {
  if (!ctx.databaseUrl) {
    ctx.log('sweep: skipped (DATABASE_URL not set)');
    return [];
  }
  const [smallTotal, largeTotal, rounds] = ctx.quick ? [10_000, 100_000, 3] : [100_000, 1_000_000, 5];
  const small = await prepare(smallTotal, ctx.log);
  const large = await prepare(largeTotal, ctx.log);
  try {
    await timeSweep(small); // warm-up: plans cached, pages in memory
    await timeSweep(large);
    const smallMs: number[] = [];
    const largeMs: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const s = await timeSweep(small);
      const l = await timeSweep(large);
      smallMs.push(s);
      largeMs.push(l);
      ratios.push(l / s);
      ctx.log(
        `round ${i + 1}: ${smallTotal.toLocaleString('en')} ${s.toFixed(0)} ms, ${largeTotal.toLocaleString('en')} ${l.toFixed(0)} ms`,
      );
    }
    const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
    return [
      figure(
        `sweep time ${label(largeTotal)} / ${label(smallTotal)} entities (same expired)`,
        ratios,
        'ratio',
        {
          op: '<=',
          value: 1.3,
        },
      ),
      figure(`sweep time at ${label(smallTotal)} (${EXPIRED_TOTAL} expired)`, smallMs, 'ms'),
      figure(`sweep time at ${label(largeTotal)} (${EXPIRED_TOTAL} expired)`, largeMs, 'ms'),
      figure(
        `expired rows swept per second at ${label(largeTotal)}`,
        largeMs.map((ms) => EXPIRED_TOTAL / (ms / 1000)),
        'rows/s',
        undefined,
        `median ${median(largeMs).toFixed(0)} ms for ${EXPIRED_TOTAL} rows`,
      ),
    ];
  } finally {
    await small.db.close();
    await large.db.close();
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await sweep({
    quick: process.argv.includes('--quick'),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  for (const f of figures) {
    const target = f.target ? `  target ${f.target} ${f.met ? 'met' : 'NOT met'}` : '';
    console.log(
      `${f.name}: ${f.value} ${f.unit}  (spread ${f.spread?.join('–')}, ${f.rounds} rounds)${target}`,
    );
  }
}

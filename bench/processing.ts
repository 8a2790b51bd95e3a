/**
 * Processing throughput (issue 15) on PostgreSQL: jobs per second with 1, 2 and 4 workers
 * (`runWorker` over `sqlProcessingPort`, one pg Pool of 2 connections each, one job at a time
 * each), and the safety figures: jobs processed twice and jobs lost (both must be 0).
 *
 * Each round puts `perRound` entities of a kind with one required processor in `processing`
 * (seeded uploading, then finalized by their owners — untimed), then times the workers draining
 * every job. The processor stands for a Storage read: 10 ms of waiting, no CPU, as a worker that
 * downloads an object spends most of its time. So the figure is how well claims, leases and
 * completions scale across workers, not how fast a hash is.
 *
 * `npx tsx bench/processing.ts [--quick]` (needs DATABASE_URL); also a `Section` for bench/run.ts.
 */
import pg from 'pg';
import { pathToFileURL } from 'node:url';
import { figure, median, type BenchContext, type Figure, type Section } from './lib.js';
import { createUser, resetDb, user } from '../test/support/db.js';
import { defineKind } from '../test/support/fixtures.js';
import { createPgDb, fromPgPool, quietOnTermination, type PgTestDb } from '../test/support/pg.js';
import { seedEntities } from '../test/support/sweep.js';
import { rpc } from '../test/contract/support.js';
import { defineProcessor, runWorker, sqlProcessingPort } from '../src/workers/index.js';

const OWNERS = 8;
const WORK_MS = 10;

const work = defineProcessor({
  name: 'bench_io',
  run: () => new Promise((resolve) => setTimeout(() => resolve({ result: { ok: true } }), WORK_MS)),
});

/** `count` entities in `processing`, one pending job each. */
async function seedProcessing(db: PgTestDb, kind: string, owners: string[], count: number): Promise<void> {
  await seedEntities(db, { kind, owners, status: 'uploading', count, ageHours: 0 });
  const { rows } = await db.query<{ id: string; owner_id: string }>(
    `select id, owner_id from upload_lifecycle.entities where status = 'uploading'`,
  );
  for (const r of rows) {
    const state = await rpc(db, user(r.owner_id), 'finalize_upload', { entity_id: r.id });
    if (state.status !== 'processing') throw new Error(`finalize left ${r.id} ${state.status}`);
  }
}

/** Drains every pending job with `workers` workers; answers jobs/s. */
async function drain(url: string, workers: number, jobs: number): Promise<number> {
  const pools = Array.from({ length: workers }, () =>
    quietOnTermination(new pg.Pool({ connectionString: url, max: 2 })),
  );
  try {
    const started = performance.now();
    const reports = await Promise.all(
      pools.map(
        (pool, i) =>
          runWorker({
            port: sqlProcessingPort(fromPgPool(pool), new Map()),
            processors: [work],
            concurrency: 1,
            workerId: `bench-${workers}-${i}`,
            untilIdle: true,
            pollIntervalMs: 5,
          }).done,
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const completed = reports.reduce((n, r) => n + r.completed, 0);
    if (completed !== jobs) throw new Error(`${workers} workers completed ${completed} of ${jobs} jobs`);
    return jobs / seconds;
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
}

export const processing: Section = async (ctx: BenchContext): Promise<Figure[]> => {
  if (!ctx.databaseUrl) {
    ctx.log('processing: skipped (DATABASE_URL not set)');
    return [];
  }
  const { rounds, perRound } = ctx.quick ? { rounds: 1, perRound: 20 } : { rounds: 5, perRound: 200 };
  const db = await createPgDb({ poolSize: 2 });
  try {
    await resetDb(db);
    const owners: string[] = [];
    for (let i = 0; i < OWNERS; i++) owners.push(await createUser(db));
    const { kind } = await defineKind(db, {
      requirements: [{ slot: 'document', minCount: 1, maxCount: 1, allowedMimeTypes: ['application/pdf'] }],
      processors: [{ processor: work.name }],
    });
    const rates: Record<1 | 2 | 4, number[]> = { 1: [], 2: [], 4: [] };
    // Warm-up, then rounds in a rotating order so drift weighs on every count alike.
    await seedProcessing(db, kind, owners, 10);
    await drain(db.url, 2, 10);
    const orders: (1 | 2 | 4)[][] = [
      [1, 2, 4],
      [4, 1, 2],
      [2, 4, 1],
    ];
    for (let round = 0; round < rounds; round++) {
      for (const workers of orders[round % orders.length]!) {
        await seedProcessing(db, kind, owners, perRound);
        rates[workers].push(await drain(db.url, workers, perRound));
      }
    }
    // Safety over everything the rounds did: each job completed exactly once, none left behind.
    const { rows } = await db.query<{ twice: number; lost: number; jobs: number; unfinished: number }>(
      `select
         (select count(*)::int from (select job_id from upload_lifecycle.job_events
            where to_status = 'complete' group by job_id having count(*) > 1) t) as twice,
         (select count(*)::int from upload_lifecycle.jobs where status <> 'complete') as lost,
         (select count(*)::int from upload_lifecycle.jobs) as jobs,
         (select count(*)::int from upload_lifecycle.entities where status <> 'completed') as unfinished`,
    );
    const safety = rows[0]!;
    const ratios = rates[4].map((r, i) => r / rates[1][i]!);
    ctx.log(
      `jobs/s with 1: ${median(rates[1]).toFixed(0)}, 2: ${median(rates[2]).toFixed(0)}, 4: ${median(rates[4]).toFixed(0)} ` +
        `(4÷1 per round ${ratios.map((r) => r.toFixed(2)).join(' ')}); ${safety.jobs} jobs: ${safety.twice} twice, ${safety.lost} lost, ${safety.unfinished} entities unfinished`,
    );
    if (safety.twice > 0 || safety.lost > 0 || safety.unfinished > 0)
      throw new Error(`processing safety violated: ${JSON.stringify(safety)}`);
    const note = `${WORK_MS} ms simulated Storage read per job, one job at a time per worker, ${perRound} jobs per timing`;
    return [
      figure(
        'processing jobs/s, 4 workers ÷ 1 (PostgreSQL)',
        ratios,
        'ratio',
        { op: '>=', value: 1.6 },
        note,
      ),
      figure('processing jobs/s with 1 worker (PostgreSQL)', rates[1], 'jobs/s', undefined, note),
      figure('processing jobs/s with 2 workers (PostgreSQL)', rates[2], 'jobs/s', undefined, note),
      figure('processing jobs/s with 4 workers (PostgreSQL)', rates[4], 'jobs/s', undefined, note),
      figure('processing: jobs completed twice', [safety.twice], 'jobs', { op: '<=', value: 0 }),
      figure('processing: jobs lost (not complete at the end)', [safety.lost], 'jobs', {
        op: '<=',
        value: 0,
      }),
    ];
  } finally {
    await db.close();
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await processing({
    quick: process.argv.includes('--quick'),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  for (const f of figures) console.log(JSON.stringify(f));
}

/**
 * Property-test throughput (DESIGN.md §5): model-based command sequences per second, on PGlite and
 * (when DATABASE_URL is set) on the real server.
 *
 * Runs the suite's own property (test/property: random command sequences of up to 40 commands,
 * the model and every invariant checked after each step, a reset before each sequence) with the
 * suite's fixed seed and a fixed number of runs per round, so every round runs the same sequences.
 * A failing property fails the bench (it is an error, not a timing). Figures, per round (median
 * and spread): sequences per second on one PGlite, and on two PGlite instances in worker threads
 * (what `npm test` runs; the rate counts from the moment both databases are ready), each with
 * where the time went: the per-run reset, the commands (one transaction each), the invariant
 * checks, and the rest (generation, model, fast-check).
 *
 * `npx tsx bench/property.ts [--quick]`; also a `Section` for bench/run.ts.
 */
import { pathToFileURL } from 'node:url';
import { figure, median, type BenchContext, type Figure, type Section } from './lib.js';
import type { SqlClient } from '../test/support/db.js';
import { DEFAULT_SEED, createPropertyDb } from '../test/property/harness.js';
import { runShard, runProperty, type ShardResult } from '../test/property/runner.js';
import { formatTime, mergeStats } from '../test/property/stats.js';

const MAX_COMMANDS = 40;

/**
 * The harness before issue 17 (commit 241a575), for the comparison every bench run prints. Its
 * own bench (one PGlite, 30 sequences per round, same seed), run just before and just after this
 * bench on the shared two-core machine (load average ~3): 16.2 and 18.8 seq/s (median of 3
 * rounds each); under heavier load (~7) 7.7. Where its time went, from its own counters on 1,000
 * sequences: commands 53 %, invariant checks 43 %, reset and the rest 4 %. Its costs: a
 * transaction was 16 protocol round trips, every command was followed by a full state read, and
 * every reset discarded every cached plan.
 */
export const BEFORE = {
  commit: '241a575',
  sequencesPerSecond: 17.5,
  note: 'one PGlite, the pre-17 model (median of its bench run just before and after, same conditions); commands 53 %, invariant checks 43 %, reset and the rest 4 %',
};

function fail(label: string, shards: ShardResult[]): void {
  const failed = shards.find((s) => s.failure);
  if (failed) throw new Error(`property failed on ${label} (seed ${failed.seed}):\n${failed.failure}`);
}

async function oneDatabase(label: string, db: SqlClient, ctx: BenchContext, sizes: Sizes): Promise<Figure> {
  const shard = (numRuns: number) => runShard(db, { seed: DEFAULT_SEED, numRuns, maxCommands: MAX_COMMANDS });
  fail(label, [await shard(Math.min(5, sizes.runs))]); // warm-up
  const rates: number[] = [];
  const results: ShardResult[] = [];
  for (let i = 0; i < sizes.rounds; i++) {
    const result = await shard(sizes.runs);
    fail(label, [result]);
    results.push(result);
    rates.push(sizes.runs / (result.ms / 1000));
  }
  const ms = results.reduce((t, r) => t + r.ms, 0);
  ctx.log(
    `${label}: ${rates.map((r) => r.toFixed(1)).join(' ')} sequences/s, median ${median(rates).toFixed(1)}`,
  );
  ctx.log(`  ${formatTime(mergeStats(results.map((r) => r.stats)), ms)}`);
  return figure(
    `property sequences per second on ${label}`,
    rates,
    'seq/s',
    undefined,
    `${sizes.runs} sequences (≤ ${MAX_COMMANDS} commands) per round, seed ${DEFAULT_SEED}`,
  );
}

async function workers(ctx: BenchContext, sizes: Sizes, n: number): Promise<Figure> {
  const label = `PGlite, ${n} workers`;
  const rates: number[] = [];
  const all: ShardResult[] = [];
  for (let i = 0; i < sizes.rounds; i++) {
    const outcome = await runProperty({
      seed: DEFAULT_SEED,
      numRuns: sizes.runs * n,
      maxCommands: MAX_COMMANDS,
      path: undefined,
      workers: n,
    });
    fail(label, outcome.shards);
    all.push(...outcome.shards);
    // From the moment the databases are ready: the slowest shard's property time.
    rates.push((sizes.runs * n) / (Math.max(...outcome.shards.map((s) => s.ms)) / 1000));
  }
  ctx.log(
    `${label}: ${rates.map((r) => r.toFixed(1)).join(' ')} sequences/s, median ${median(rates).toFixed(1)}`,
  );
  ctx.log(
    `  summed over workers: ${formatTime(
      mergeStats(all.map((r) => r.stats)),
      all.reduce((t, r) => t + r.ms, 0),
    )}`,
  );
  return figure(
    `property sequences per second on ${label}`,
    rates,
    'seq/s',
    { op: '>=', value: 100 },
    `${sizes.runs * n} sequences (≤ ${MAX_COMMANDS} commands) per round over ${n} worker threads, seeds ${DEFAULT_SEED}…${DEFAULT_SEED + n - 1}; before (${BEFORE.commit}, one PGlite): ${BEFORE.sequencesPerSecond} seq/s, ${BEFORE.note}`,
  );
}

interface Sizes {
  rounds: number;
  runs: number;
}

export const property: Section = async (ctx: BenchContext): Promise<Figure[]> => {
  const sizes = ctx.quick ? { rounds: 2, runs: 10 } : { rounds: 3, runs: 100 };
  ctx.log(`before (${BEFORE.commit}, one PGlite): ${BEFORE.sequencesPerSecond} sequences/s — ${BEFORE.note}`);
  const figures: Figure[] = [];
  const lite = await createPropertyDb();
  try {
    figures.push(await oneDatabase('PGlite', lite, ctx, sizes));
  } finally {
    await lite.close();
  }
  figures.push(await workers(ctx, sizes, 2));
  if (!ctx.databaseUrl) {
    ctx.log('property on PostgreSQL: skipped (DATABASE_URL not set)');
    return figures;
  }
  const { createPgDb } = await import('../test/support/pg.js');
  const pg = await createPgDb({ poolSize: 4 });
  try {
    figures.push(await oneDatabase('PostgreSQL', pg, ctx, { ...sizes, runs: Math.ceil(sizes.runs / 2) }));
  } finally {
    await pg.close();
  }
  return figures;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await property({
    quick: process.argv.includes('--quick'),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  for (const f of figures) console.log(JSON.stringify(f));
}

/**
 * Property-test throughput (DESIGN.md §5): model-based command sequences per second, on PGlite and
 * (when DATABASE_URL is set) on the real server.
 *
 * Runs the suite's own property (`lifecycleProperty` of test/property/harness.ts: random command
 * sequences of up to 40 commands, the model and every invariant checked after each step, a reset
 * before each sequence) with `fc.check`, the suite's fixed seed and a fixed number of runs per
 * round, so every round runs the same sequences. A failing property fails the bench (it is an
 * error, not a timing). Figure: sequences per second per round (median and spread).
 *
 * `npx tsx bench/property.ts [--quick]`; also a `Section` for bench/run.ts.
 */
import fc from 'fast-check';
import { pathToFileURL } from 'node:url';
import { figure, median, type BenchContext, type Figure, type Section } from './lib.js';
import { createPgliteDb, type TestDb } from '../test/support/db.js';
import {
  DEFAULT_SEED,
  describeCaps,
  detectCapabilities,
  lifecycleProperty,
  prepareDatabase,
} from '../test/property/harness.js';

const MAX_COMMANDS = 40;

async function measure(
  label: string,
  db: TestDb,
  ctx: BenchContext,
  sizes: { rounds: number; runs: number },
): Promise<Figure> {
  await prepareDatabase(db);
  const caps = await detectCapabilities(db);
  const property = lifecycleProperty(db, caps, { maxCommands: MAX_COMMANDS });
  const check = async (numRuns: number) => {
    const result = await fc.check(property, { seed: DEFAULT_SEED, numRuns });
    if (result.failed) throw new Error(`property failed on ${label}:\n${fc.defaultReportMessage(result)}`);
  };
  await check(Math.min(5, sizes.runs)); // warm-up
  const rates: number[] = [];
  for (let i = 0; i < sizes.rounds; i++) {
    const started = performance.now();
    await check(sizes.runs);
    rates.push(sizes.runs / ((performance.now() - started) / 1000));
  }
  ctx.log(
    `${label} (${describeCaps(caps)}): ${rates.map((r) => r.toFixed(1)).join(' ')} sequences/s, median ${median(rates).toFixed(1)}`,
  );
  return figure(
    `property sequences per second on ${label}`,
    rates,
    'seq/s',
    undefined,
    `${sizes.runs} sequences (≤ ${MAX_COMMANDS} commands) per round, seed ${DEFAULT_SEED}`,
  );
}

export const property: Section = async (ctx: BenchContext): Promise<Figure[]> => {
  const sizes = ctx.quick ? { rounds: 2, runs: 10 } : { rounds: 3, runs: 30 };
  const figures: Figure[] = [];
  const lite = await createPgliteDb();
  try {
    figures.push(await measure('PGlite', lite, ctx, sizes));
  } finally {
    await lite.close();
  }
  if (!ctx.databaseUrl) {
    ctx.log('property on PostgreSQL: skipped (DATABASE_URL not set)');
    return figures;
  }
  const { createPgDb } = await import('../test/support/pg.js');
  const pg = await createPgDb({ poolSize: 4 });
  try {
    figures.push(await measure('PostgreSQL', pg, ctx, sizes));
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

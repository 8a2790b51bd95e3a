/**
 * Where the property suite's time goes on one PGlite (issue 17): the suite's own runs (fixed seed),
 * every statement the client sends timed and grouped by what it is (the invariant checks' observe
 * round trip, each RPC, the storage server's steps, the reset…), and with `--funcs` the SQL
 * functions and triggers by self time (`track_functions = 'all'`, pg_stat_user_functions: their
 * own bookkeeping inflates the figures, compare them with each other only).
 *
 * `npx tsx bench/property-profile.ts [runs=40] [--funcs]`. The machine is shared: the CPU figure
 * (sequences per CPU second of this process) is the one its load skews least.
 */
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations } from '../src/db/migrate.js';
import { DEFAULT_SEED, withPgliteScript } from '../test/property/harness.js';
import { runShard } from '../test/property/runner.js';

const runs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 40);
const funcs = process.argv.includes('--funcs');

/** What a statement is, for the grouping. */
function label(text: string): string {
  if (text.includes('property_test.observe')) return 'invariant checks: observe (+ checkJobs read)';
  if (text.includes('upload_lifecycle.jobs j join')) return 'checkJobs read (first, alone)';
  if (text.includes('property_test.reset')) return 'reset';
  if (text === 'rollback') return 'rollback after a refused command';
  const m =
    /(public\.\w+|property_test\.\w+|insert into storage\.objects|storage\.buckets|update upload_lifecycle\.\w+|delete from upload_lifecycle\.\w+|insert into upload_lifecycle\.\w+|select id from upload_lifecycle\.jobs)/.exec(
      text,
    );
  const rolledBack = /\nrollback;$/.test(text) ? ' (rolled back)' : '';
  return (m ? m[1]! : text.slice(0, 60).replace(/\s+/g, ' ')) + rolledBack;
}

const pglite = await PGlite.create();
await applyMigrations(pglite, { supabaseShim: true });
const timings = new Map<string, { n: number; ms: number }>();
const timed =
  <A extends unknown[], R>(kind: string, fn: (text: string, ...rest: A) => Promise<R>) =>
  async (text: string, ...rest: A): Promise<R> => {
    const t0 = performance.now();
    try {
      return await fn(text, ...rest);
    } finally {
      const key = `${kind} ${label(text)}`;
      const t = timings.get(key) ?? { n: 0, ms: 0 };
      t.n++;
      t.ms += performance.now() - t0;
      timings.set(key, t);
    }
  };
const exec = pglite.exec.bind(pglite);
const query = pglite.query.bind(pglite);
pglite.exec = timed('exec ', exec);
pglite.query = timed('query', query) as typeof pglite.query;
if (funcs) await exec(`set track_functions = 'all'`);
const db = withPgliteScript(pglite);
try {
  await runShard(db, { seed: DEFAULT_SEED, numRuns: 3, maxCommands: 40 }); // warm-up
  timings.clear();
  if (funcs) await exec('select pg_stat_reset()');
  const cpu = process.cpuUsage();
  const result = await runShard(db, { seed: DEFAULT_SEED, numRuns: runs, maxCommands: 40 });
  const used = process.cpuUsage(cpu);
  if (result.failure) throw new Error(result.failure);
  const cpuS = (used.user + used.system) / 1e6;
  console.log(
    `${runs} sequences: ${(result.ms / 1000).toFixed(1)} s wall, ${cpuS.toFixed(1)} s CPU = ${(runs / cpuS).toFixed(1)} sequences per CPU second`,
  );
  const t = result.stats.time;
  console.log(
    `phases (wall): reset ${(t.reset / 1000).toFixed(1)} s, commands ${(t.step / 1000).toFixed(1)} s, checks ${(t.invariants / 1000).toFixed(1)} s; ` +
      `checks: ${result.stats.checks.reads} read the state, ${result.stats.checks.skipped} skipped`,
  );
  const total = [...timings.values()].reduce((s, x) => s + x.ms, 0);
  console.log(`statements (wall, ${(total / 1000).toFixed(1)} s in all):`);
  for (const [key, x] of [...timings].sort((a, b) => b[1].ms - a[1].ms))
    console.log(
      `  ${(x.ms / 1000).toFixed(2).padStart(6)} s ${String(x.n).padStart(6)} × ${(x.ms / x.n).toFixed(2).padStart(6)} ms  ${key}`,
    );
  if (funcs) {
    const { rows } = await query<{ f: string; calls: number; total: string; self: string }>(
      `select schemaname || '.' || funcname as f, calls, round(total_time::numeric, 1)::text as total,
              round(self_time::numeric, 1)::text as self
       from pg_stat_user_functions order by self_time desc limit 30`,
    );
    console.log('SQL functions and triggers by self time (ms, with tracking overhead):');
    for (const r of rows)
      console.log(
        `  ${r.self.padStart(8)} self ${r.total.padStart(8)} total ${String(r.calls).padStart(6)} calls  ${r.f}`,
      );
  }
} finally {
  await pglite.close();
}

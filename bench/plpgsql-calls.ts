/**
 * `DATABASE_URL=… npx tsx bench/plpgsql-calls.ts`: cost per call of the helpers 0.1.0 shipped as
 * `language sql` with SECURITY DEFINER or a pinned search_path (never inlined, so planned on every
 * call before PostgreSQL 18) against their PL/pgSQL definitions now. Two throwaway databases on
 * the server: one with release 0.1.0 (test/fixtures/release-0.1.0.json), one with the sequence.
 * A standalone measurement, not a section of `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { MIGRATIONS, SUPABASE_SHIM_SQL } from '../src/generated/sql.js';

const base = process.env.DATABASE_URL;
if (!base) throw new Error('set DATABASE_URL to a PostgreSQL server');
const released = JSON.parse(readFileSync('test/fixtures/release-0.1.0.json', 'utf8')).migrations as {
  sql: string;
}[];
const CALLS = [
  'upload_lifecycle.caller_is_service()',
  "upload_lifecycle.postpone_storage_deletions('{}'::bigint[], 'x')",
  "public.fail_storage_deletions('{}'::bigint[], 'x')",
];

async function database(name: string, sequence: readonly { sql: string }[]): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base!);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(SUPABASE_SHIM_SQL);
  for (const m of sequence) await client.query(m.sql);
  return client;
}

const loop = (call: string, n: number) =>
  `do $$ begin for i in 1..${n} loop perform ${call}; end loop; end $$`;
for (const [label, name, sequence] of [
  ['0.1.0 (sql)', 'ul_bench_released', released],
  ['now (plpgsql)', 'ul_bench_current', MIGRATIONS],
] as const) {
  const client = await database(name, sequence);
  for (const call of CALLS) {
    await client.query(loop(call, 1000));
    const times: number[] = [];
    for (let round = 0; round < 5; round++) {
      const start = performance.now();
      await client.query(loop(call, 10_000));
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(14)} ${call.padEnd(66)} ${(times[2]! / 10).toFixed(1)} µs/call (median of 5 × 10k)`,
    );
  }
  await client.end();
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database ${name}`);
  await admin.end();
}

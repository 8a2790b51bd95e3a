/**
 * Cost of the two RPCs the upload machine makes per entity (bench/upload.ts), in the database:
 * create_upload_draft with `--files` files and start_upload, then finalize_upload with every
 * object stored, as the owner the way PostgREST calls them (a transaction with role and claims,
 * committed, so the deferred completion check runs). The objects are written between the two
 * calls, untimed. On PGlite (what bench/upload.ts runs on) and, with DATABASE_URL, on the server.
 *
 * `--before=<git revision>` measures the migration sequence of that revision
 * (`src/generated/sql.ts` there) in a second database of the same engine, rounds alternating
 * (who goes first too), so a shared, loaded machine slows both alike; it prints both and the
 * ratio now / before of the medians.
 * `--profile` (PostgreSQL) prints pg_stat_user_functions for the current sequence: calls, self and
 * total milliseconds per entity of every function (track_functions = 'all').
 *
 * `npx tsx bench/rpc-cost.ts [--before=main] [--rounds=60] [--files=20] [--profile]`.
 * A standalone measurement, not a section of `npm run bench`.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { median } from './lib.js';
import {
  createPgliteDb,
  createUser,
  fromPglite,
  user,
  type SqlClient,
  type TestDb,
} from '../test/support/db.js';
import { defineKind, forceObject } from '../test/support/fixtures.js';
import { createPgDb } from '../test/support/pg.js';
import { rpc } from '../test/contract/support.js';

const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const ROUNDS = Number(option('rounds') ?? 60);
const FILES = Number(option('files') ?? 20);
const BEFORE = option('before');
const PROFILE = process.argv.includes('--profile');
const MIME = 'application/pdf';
const SIZE = 5 * 1024 * 1024;

type Sequence = readonly { name: string; sql: string }[];
interface Generated {
  MIGRATIONS: Sequence;
  SUPABASE_SHIM_SQL: string;
}

/** The generated sequence of a git revision, imported from a temporary copy. */
async function sequenceAt(revision: string): Promise<Generated> {
  const source = execFileSync('git', ['show', `${revision}:src/generated/sql.ts`], { encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'rpc-cost-'));
  const file = join(dir, 'sql.ts');
  writeFileSync(file, source);
  try {
    return (await import(file)) as Generated;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Subject {
  label: string;
  db: TestDb;
  userId: string;
  kind: string;
  create: number[];
  finalize: number[];
}

async function prepare(label: string, db: TestDb): Promise<Subject> {
  const userId = await createUser(db);
  const { kind } = await defineKind(db, {
    kind: 'bench_rpc',
    requirements: [
      { slot: 'document', minCount: 1, maxCount: FILES, maxBytes: 8 * SIZE, allowedMimeTypes: [MIME] },
    ],
  });
  return { label, db, userId, kind, create: [], finalize: [] };
}

/** One entity: create (timed), objects (untimed), finalize (timed). */
async function once(s: Subject, record: boolean): Promise<void> {
  const db: SqlClient = s.db;
  const me = user(s.userId);
  const files = Array.from({ length: FILES }, (_, i) => ({
    key: `f${i}`,
    slot: 'document',
    filename: `f${i}.pdf`,
    size: SIZE,
    mime: MIME,
  }));
  let start = performance.now();
  const state = await rpc(db, me, 'create_upload_draft', {
    kind: s.kind,
    metadata: { bench: true },
    idempotency_key: randomUUID(),
    files,
    start_upload: true,
  });
  const create = performance.now() - start;
  if (state.files.length !== FILES) throw new Error(`${s.label}: ${state.files.length} files registered`);
  for (const f of state.files)
    await forceObject(db, s.userId, {
      id: f.file_id,
      bucketId: f.bucket_id,
      objectPath: f.object_path,
      size: SIZE,
      mime: MIME,
    });
  start = performance.now();
  const done = await rpc(db, me, 'finalize_upload', { entity_id: state.entity_id });
  const finalize = performance.now() - start;
  if (done.status !== 'completed') throw new Error(`${s.label}: finalize left ${done.status}`);
  if (record) {
    s.create.push(create);
    s.finalize.push(finalize);
  }
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
const fmt = (xs: number[]) =>
  `median ${median(xs).toFixed(2)} ms, p25 ${quantile(xs, 0.25).toFixed(2)}, min ${Math.min(...xs).toFixed(2)}`;

async function measure(engine: string, subjects: Subject[]): Promise<void> {
  for (let i = 0; i < 10; i++) for (const s of subjects) await once(s, false);
  if (PROFILE) for (const s of subjects) await s.db.query('select pg_stat_reset()');
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? subjects : [...subjects].reverse();
    for (const s of order) await once(s, true);
  }
  for (const s of subjects) {
    console.log(`${engine} ${s.label}: create_upload_draft(${FILES} files, start): ${fmt(s.create)}`);
    console.log(`${engine} ${s.label}: finalize_upload(${FILES} objects):          ${fmt(s.finalize)}`);
  }
  if (subjects.length === 2) {
    const [now, before] = subjects as [Subject, Subject];
    const r = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
    console.log(
      `${engine} now / before (medians): create ${r(now.create, before.create)}, finalize ${r(now.finalize, before.finalize)}, both ${r(
        now.create.map((c, i) => c + now.finalize[i]!),
        before.create.map((c, i) => c + before.finalize[i]!),
      )}`,
    );
  }
  if (PROFILE && engine === 'PostgreSQL') {
    const s = subjects[0]!;
    await new Promise((r) => setTimeout(r, 600)); // statistics reach the view within 500 ms
    const { rows } = await s.db.query<{ name: string; calls: string; self: number; total: number }>(
      `select schemaname || '.' || funcname as name, calls, self_time as self, total_time as total
       from pg_stat_user_functions where calls > 0 order by self_time desc`,
    );
    console.log(`  ${s.label}, per entity: calls, self ms, total ms`);
    for (const r of rows)
      console.log(
        `  ${r.name.padEnd(52)} ${(Number(r.calls) / ROUNDS).toFixed(1).padStart(6)} ${(r.self / ROUNDS).toFixed(3).padStart(8)} ${(r.total / ROUNDS).toFixed(3).padStart(8)}`,
      );
  }
}

const before = BEFORE ? await sequenceAt(BEFORE) : undefined;
const closing: TestDb[] = [];
try {
  const subjects = [await prepare('now', await createPgliteDb())];
  if (before) {
    const pg = await PGlite.create();
    await pg.exec(before.SUPABASE_SHIM_SQL);
    for (const m of before.MIGRATIONS) await pg.exec(m.sql);
    subjects.push(await prepare(`before (${BEFORE})`, fromPglite(pg)));
  }
  closing.push(...subjects.map((s) => s.db));
  await measure('PGlite', subjects);
  if (process.env.DATABASE_URL) {
    // One connection per database: `track_functions` is set for its session.
    const now = await createPgDb({ poolSize: 1 });
    closing.push(now);
    if (PROFILE) await now.query(`set track_functions = 'all'`);
    const pgSubjects = [await prepare('now', now)];
    if (before) {
      const old = await createPgDb({ poolSize: 1, migrate: false });
      closing.push(old);
      for (const m of before.MIGRATIONS) await old.exec(m.sql);
      pgSubjects.push(await prepare(`before (${BEFORE})`, old));
    }
    await measure('PostgreSQL', pgSubjects);
  }
} finally {
  for (const db of closing) await db.close();
}

/**
 * Guard overhead (DESIGN.md §5): the full guarded lifecycle vs. the same row writes without the
 * guards, on PGlite and (when DATABASE_URL is set) on the real server.
 *
 * Guarded: as the signed-in owner, the way PostgREST calls it — create_upload_draft, begin_upload,
 * 5 × (register_upload_file + the object written the way the storage server writes it:
 * permission probe as the user, rolled back, then the row as service_role), finalize_upload.
 * Every trigger, RLS policy and RPC check runs.
 *
 * Plain: the same rows — 1 entity, 3 audit events, 5 file rows, 5 objects, the status updates and
 * `verified_at` — written by plain INSERT/UPDATE statements as the superuser (RLS bypassed) with
 * `set local session_replication_role = replica` (no trigger fires: not the lifecycle guards, the
 * audit trigger, the completion check, nor the foreign-key triggers). Same tables, same indexes,
 * same database, so only the guards differ. Chosen over a trigger-less copy of the tables in another
 * schema because a copy would also differ in table size, bloat and cache state.
 * Both paths use one transaction per step (11 transactions per lifecycle; the guarded path has 5
 * more for the storage permission probes, which are part of what is measured).
 *
 * Rounds alternate the two paths (`ratioRounds`); each round runs `perRound` lifecycles of each.
 * Figure: guarded time / plain time (target ≤ 1.5), plus the guarded lifecycles per second.
 *
 * `npx tsx bench/guards.ts [--quick]`; also a `Section` for bench/run.ts.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { figure, median, ratioRounds, type BenchContext, type Figure, type Section } from './lib.js';
import { writeStorageObject } from '../src/db/storage-write.js';
import { createPgliteDb, createUser, user, type SqlClient, type TestDb } from '../test/support/db.js';
import { defineKind } from '../test/support/fixtures.js';
import { rpc, type RegisteredFileJson } from '../test/contract/support.js';

export const FILES = 5;
const SIZE = 1000;
const MIME = 'application/pdf';

export interface Env {
  db: SqlClient;
  userId: string;
  kind: string;
  bucketId: string;
}

/** A user and a kind that requires exactly `FILES` documents. */
export async function prepareEnv(db: SqlClient): Promise<Env> {
  const userId = await createUser(db);
  const { kind, bucketId } = await defineKind(db, {
    kind: 'bench',
    requirements: [
      { slot: 'document', minCount: FILES, maxCount: FILES, maxBytes: 10_000, allowedMimeTypes: [MIME] },
    ],
  });
  return { db, userId, kind, bucketId };
}

/** The whole lifecycle through the RPCs as the owner; throws unless it ends `completed`. */
export async function guardedLifecycle(env: Env): Promise<void> {
  const me = user(env.userId);
  const draft = await rpc(env.db, me, 'create_upload_draft', { kind: env.kind, metadata: { n: 1 } });
  await rpc(env.db, me, 'begin_upload', { entity_id: draft.entity_id });
  for (let i = 0; i < FILES; i++) {
    const file = await rpc<RegisteredFileJson>(env.db, me, 'register_upload_file', {
      entity_id: draft.entity_id,
      slot: 'document',
      filename: `f${i}.pdf`,
      size: SIZE,
      mime: MIME,
    });
    await writeStorageObject(env.db, {
      bucketId: file.bucket_id,
      name: file.object_path,
      ownerId: env.userId,
      size: SIZE,
      mimetype: MIME,
    });
  }
  const done = await rpc(env.db, me, 'finalize_upload', { entity_id: draft.entity_id });
  if (done.status !== 'completed') throw new Error(`guarded lifecycle ended ${done.status}`);
}

/** The same rows by plain SQL: superuser, triggers off, no RPC. */
export async function plainLifecycle(env: Env): Promise<void> {
  const { db, userId, kind, bucketId } = env;
  const id = randomUUID();
  const plain = <T>(fn: (tx: Parameters<Parameters<SqlClient['transaction']>[0]>[0]) => Promise<T>) =>
    db.transaction(async (tx) => {
      await tx.query('set local session_replication_role = replica');
      return fn(tx);
    });
  const event = `insert into upload_lifecycle.entity_events
      (entity_id, owner_id, kind, event, from_status, to_status, attempt, detail, actor_id, actor_role)
      values ($1, $2, $3, $4, $5, $6, $7, $8, $2, 'authenticated')`;
  await plain(async (tx) => {
    await tx.query(
      `insert into upload_lifecycle.entities (id, kind, owner_id, status, metadata) values ($1, $2, $3, 'draft', $4)`,
      [id, kind, userId, JSON.stringify({ n: 1 })],
    );
    await tx.query(event, [id, userId, kind, 'create', null, 'draft', 0, '{"idempotency_key":null}']);
  });
  await plain(async (tx) => {
    await tx.query(
      `update upload_lifecycle.entities set status = 'uploading', attempt = 1, updated_at = now(), status_changed_at = now() where id = $1`,
      [id],
    );
    await tx.query(event, [id, userId, kind, 'begin_upload', 'draft', 'uploading', 1, '{}']);
  });
  for (let i = 0; i < FILES; i++) {
    const fileId = randomUUID();
    const path = `${userId}/${id}/${fileId}`;
    await plain((tx) =>
      tx.query(
        `insert into upload_lifecycle.entity_files
           (id, entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime)
         values ($1, $2, $3, 'document', $4, $5, $6, $7, $8)`,
        [fileId, id, kind, bucketId, path, `f${i}.pdf`, SIZE, MIME],
      ),
    );
    await plain((tx) =>
      tx.query(
        `insert into storage.objects (bucket_id, name, owner, owner_id, metadata) values ($1, $2, $3::uuid, $3, $4::jsonb)`,
        [
          bucketId,
          path,
          userId,
          JSON.stringify({
            size: SIZE,
            mimetype: MIME,
            eTag: `"${SIZE.toString(16)}-${path.length}"`,
            contentLength: SIZE,
            cacheControl: 'max-age=3600',
          }),
        ],
      ),
    );
  }
  await plain(async (tx) => {
    await tx.query(`update upload_lifecycle.entity_files set verified_at = now() where entity_id = $1`, [id]);
    await tx.query(
      `update upload_lifecycle.entities set status = 'completed', completed_at = now(), updated_at = now(), status_changed_at = now() where id = $1`,
      [id],
    );
    await tx.query(event, [id, userId, kind, 'finalize', 'uploading', 'completed', 1, '{}']);
  });
}

/** Milliseconds for `n` lifecycles of `fn`, one after another. */
async function timeMany(n: number, fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return performance.now() - started;
}

async function measure(
  label: string,
  db: TestDb,
  ctx: BenchContext,
  sizes: { rounds: number; perRound: number },
): Promise<Figure[]> {
  const env = await prepareEnv(db);
  // Warm-up: plans cached, functions compiled, pages in memory.
  for (let i = 0; i < 3; i++) {
    await guardedLifecycle(env);
    await plainLifecycle(env);
  }
  const { ratios, as: guardedMs } = await ratioRounds(
    sizes.rounds,
    () => timeMany(sizes.perRound, () => guardedLifecycle(env)),
    () => timeMany(sizes.perRound, () => plainLifecycle(env)),
  );
  const perLifecycle = guardedMs.map((ms) => ms / sizes.perRound);
  ctx.log(
    `${label}: guarded ${median(perLifecycle).toFixed(1)} ms per lifecycle, ratio ${ratios.map((r) => r.toFixed(2)).join(' ')}`,
  );
  return [
    figure(
      `guard overhead on ${label} (guarded / plain SQL)`,
      ratios,
      'ratio',
      { op: '<=', value: 1.5 },
      `${sizes.perRound} lifecycles per round: create, begin, 5 × (register + store), finalize`,
    ),
    figure(
      `guarded lifecycles per second on ${label}`,
      perLifecycle.map((ms) => 1000 / ms),
      'lifecycles/s',
    ),
  ];
}

export const guards: Section = async (ctx: BenchContext): Promise<Figure[]> => {
  const sizes = ctx.quick ? { rounds: 3, perRound: 3 } : { rounds: 7, perRound: 20 };
  const figures: Figure[] = [];
  const lite = await createPgliteDb();
  try {
    figures.push(...(await measure('PGlite', lite, ctx, sizes)));
  } finally {
    await lite.close();
  }
  if (!ctx.databaseUrl) {
    ctx.log('guards on PostgreSQL: skipped (DATABASE_URL not set)');
    return figures;
  }
  const { createPgDb } = await import('../test/support/pg.js');
  const pg = await createPgDb({ poolSize: 1 });
  try {
    figures.push(...(await measure('PostgreSQL', pg, ctx, sizes)));
  } finally {
    await pg.close();
  }
  return figures;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await guards({
    quick: process.argv.includes('--quick'),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => console.log(`  ${line}`),
  });
  for (const f of figures) console.log(JSON.stringify(f));
}

/**
 * The demo's database: PGlite in the browser tab, with the Supabase shim and every migration of
 * the package applied — the same SQL a Supabase project runs. One per page; each story run
 * creates its own entities in it.
 */
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations } from '../../src/db/migrate.js';
import { fromPglite, type SqlClient } from '../../src/db/client.js';

export const DEMO_KIND = 'report';
export const DEMO_USER = '00000000-0000-4000-8000-000000000001';

/** What a report needs: one PDF, up to three images. Small limits so the demo can break them. */
export const DEMO_REQUIREMENTS = [
  { slot: 'document', minCount: 1, maxCount: 1, maxBytes: 2_000_000, mimes: ['application/pdf'] },
  { slot: 'photos', minCount: 0, maxCount: 3, maxBytes: 1_000_000, mimes: ['image/*'] },
] as const;

export interface DemoDatabase {
  db: PGlite;
  /** Superuser access for the DB panel and the fault controls (never used by the upload). */
  sql: SqlClient;
  userId: string;
}

async function open(): Promise<DemoDatabase> {
  const db = await PGlite.create();
  await applyMigrations(db, { supabaseShim: true });
  await db.query('insert into auth.users (id, email) values ($1, $2) on conflict do nothing', [
    DEMO_USER,
    'demo@example.test',
  ]);
  await db.query(
    `insert into upload_lifecycle.entity_kinds (kind, bucket_id, max_attempts, draft_ttl, upload_ttl)
     values ($1, 'report-files', 3, interval '1 hour', interval '1 hour') on conflict do nothing`,
    [DEMO_KIND],
  );
  for (const r of DEMO_REQUIREMENTS) {
    await db.query(
      `insert into upload_lifecycle.file_requirements (kind, slot, min_count, max_count, max_bytes, allowed_mime_types)
       values ($1, $2, $3, $4, $5, $6) on conflict do nothing`,
      [DEMO_KIND, r.slot, r.minCount, r.maxCount, r.maxBytes, r.mimes],
    );
  }
  const sql: SqlClient = fromPglite(db);
  return { db, sql, userId: DEMO_USER };
}

let opening: Promise<DemoDatabase> | null = null;

/** The page's database, opened on first use (a few seconds: the migrations run in WASM). */
export function demoDatabase(): Promise<DemoDatabase> {
  opening ??= open().catch((error: unknown) => {
    opening = null;
    throw error;
  });
  return opening;
}

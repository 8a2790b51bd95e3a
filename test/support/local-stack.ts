/**
 * The local stack the Supabase-facing tests run against: a migrated PGlite with the Supabase shim,
 * `startLocalSupabase` over it (PostgREST-shaped RPCs, Storage with tus) and a scratch directory for
 * its bytes; `close()` stops the server, closes the database and removes the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalSupabase, type LocalSupabase } from '../../src/server/local-supabase.js';
import { createPgliteDb, type TestDb } from './db.js';

export interface LocalStack {
  db: TestDb;
  local: LocalSupabase;
  directory: string;
  close(): Promise<void>;
}

/** Starts the stack; `name` labels its scratch directory (`upload-lifecycle-{name}…`). */
export async function startLocalStack(name: string): Promise<LocalStack> {
  const db = await createPgliteDb();
  const directory = await mkdtemp(join(tmpdir(), `upload-lifecycle-${name}`));
  const local = await startLocalSupabase(db, { directory });
  return {
    db,
    local,
    directory,
    async close() {
      await local.close();
      await db.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

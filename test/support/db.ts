/**
 * Test harness: one database per test file, reset between cases in milliseconds, and helpers to
 * act as a given role the way PostgREST does (`set local role` + `request.jwt.claims`).
 * Works on PGlite (default) and on a real PostgreSQL server (see ./pg.ts).
 */
import { PGlite } from '@electric-sql/pglite';
import { randomUUID } from 'node:crypto';
import { applyMigrations } from '../../src/db/migrate.js';
import {
  fromPglite as pgliteClient,
  withActor,
  type Actor,
  type SqlClient,
  type SqlTx,
} from '../../src/db/client.js';

export type { Actor, SqlClient, SqlTx };
export interface TestDb extends SqlClient {
  close(): Promise<void>;
}

export const anon: Actor = { role: 'anon' };
export const service: Actor = { role: 'service_role' };
export const superuser: Actor = { role: 'superuser' };
export const user = (userId: string): Actor => ({ role: 'authenticated', userId });
export const as = withActor;

/** Wraps PGlite in the harness interface. */
export function fromPglite(db: PGlite): TestDb {
  return { ...pgliteClient(db), close: () => db.close() };
}

/** A fresh PGlite with the shim and the migrations applied. ~2 s: create one per test file. */
export async function createPgliteDb(): Promise<TestDb> {
  const db = await PGlite.create();
  await applyMigrations(db, { supabaseShim: true });
  return fromPglite(db);
}

/**
 * Empties every data table (lifecycle tables, auth.users, storage) but keeps the schema, the
 * transition table and the functions. Milliseconds, so call it before each case.
 */
export async function resetDb(db: SqlClient): Promise<void> {
  const { rows } = await db.query<{ name: string }>(`
    select format('%I.%I', schemaname, tablename) as name from pg_tables
    where (schemaname = 'upload_lifecycle' and tablename not in ('transitions', 'job_transitions'))
       or (schemaname = 'auth' and tablename = 'users')
       or (schemaname = 'storage' and tablename in ('objects', 'buckets'))`);
  await db.exec(`truncate ${rows.map((r) => r.name).join(', ')} restart identity cascade`);
}

export async function createUser(db: SqlClient, id: string = randomUUID()): Promise<string> {
  await db.query('insert into auth.users (id, email) values ($1, $2)', [id, `${id}@example.test`]);
  return id;
}

/** Resolves to the SQLSTATE of a rejected promise; throws when it succeeds. */
export async function sqlstate(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? `no code: ${String(error)}`;
  }
  throw new Error('expected the statement to fail, but it succeeded');
}

/**
 * The harness on a real PostgreSQL server (`DATABASE_URL`): one fresh database per test file,
 * created from the server at DATABASE_URL, migrated with the shim, dropped on close.
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { SUPABASE_SHIM_SQL, applyMigrations } from '../../src/db/migrate.js';
import type { SqlTx } from '../../src/db/client.js';
import type { TestDb } from './db.js';

export const DATABASE_URL = process.env.DATABASE_URL;
/** `describe.skipIf(!hasServer)` for suites that need the real server. */
export const hasServer = Boolean(DATABASE_URL);

export interface PgTestDb extends TestDb {
  pool: pg.Pool;
  /** A connection string for this test database (for extra pools / parallel clients). */
  url: string;
}

function txOf(client: pg.PoolClient | pg.Client): SqlTx {
  return {
    query: (text, params) => client.query(text, params as unknown[]) as never,
    exec: (text) => client.query(text),
  };
}

/** A pool-backed SqlClient: each transaction gets its own connection. */
export function fromPgPool(pool: pg.Pool): TestDb & { pool: pg.Pool } {
  return {
    pool,
    query: (text, params) => pool.query(text, params as unknown[]) as never,
    exec: (text) => pool.query(text),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn(txOf(client));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * `close()` drops the database `with (force)`: a connection still closing when the server
 * terminates it (57P01) emits 'error', which would crash the process without a listener.
 */
export function quietOnTermination(pool: pg.Pool): pg.Pool {
  const ignore = (error: Error & { code?: string }) => {
    if (error.code !== '57P01') throw error;
  };
  pool.on('error', ignore);
  pool.on('connect', (client) => client.on('error', ignore));
  return pool;
}

/**
 * Creates, migrates and returns a fresh database on the server; `close()` drops it. With
 * `migrate: false` it has the Supabase shim only (for tests that apply migrations themselves).
 */
export async function createPgDb(options: { poolSize?: number; migrate?: boolean } = {}): Promise<PgTestDb> {
  if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const name = `ul_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const pool = quietOnTermination(
    new pg.Pool({ connectionString: url.toString(), max: options.poolSize ?? 10 }),
  );
  const client = await pool.connect();
  try {
    const runner = { exec: (sql: string) => client.query(sql) };
    if (options.migrate === false) await runner.exec(SUPABASE_SHIM_SQL);
    else await applyMigrations(runner, { supabaseShim: true });
  } finally {
    client.release();
  }
  const db = fromPgPool(pool);
  return {
    ...db,
    url: url.toString(),
    async close() {
      await pool.end();
      const dropper = new pg.Client({ connectionString: DATABASE_URL });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

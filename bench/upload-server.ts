/**
 * The server side of bench/upload.ts in a process of its own, as in a deployment: the stand-in for
 * Supabase's API and Storage (`startLocalSupabase`) over its database (PGlite, or PostgreSQL 15 with
 * DATABASE_URL). The bench process holds only the client — the machine, supabase-js and
 * tus-js-client — so its timer measures the client and the wire, not the server's work and garbage
 * sharing one event loop with it.
 *
 * Started by bench/upload.ts with `fork()` (env BENCH_UPLOAD_SERVER=1); one request at a time over the IPC channel:
 *   { op: 'init', database, count, maxBytes, mime } → { userId, kind }
 *   { op: 'start' } → { url, anonKey, token }   (a fresh server and byte directory)
 *   { op: 'stop' }  → {}                         (closes it and removes the bytes)
 *   { op: 'exit' }  → {}                         (closes the database; the process ends)
 * An answer is `{ ok: true, value }` or `{ ok: false, error }`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalSupabase, type LocalSupabase } from '../src/server/local-supabase.js';
import { createPgliteDb, createUser, type TestDb } from '../test/support/db.js';
import { defineKind } from '../test/support/fixtures.js';
import { createPgDb } from '../test/support/pg.js';

export type ServerRequest =
  | { op: 'init'; database: 'pglite' | 'postgres'; count: number; maxBytes: number; mime: string }
  | { op: 'start' }
  | { op: 'stop' }
  | { op: 'exit' };

export interface Started {
  url: string;
  anonKey: string;
  /** The bench user's access token (an hour). */
  token: string;
}

/** The server side of the bench: its user and kind, and a fresh stand-in per timing. */
export interface ServerHost {
  userId: string;
  kind: string;
  /** A fresh stand-in and byte directory (one at a time). */
  start: () => Promise<Started>;
  /** Closes the running stand-in and removes its bytes. */
  stop: () => Promise<void>;
  /** Stops, then closes the database. */
  close: () => Promise<void>;
}

/**
 * A database (PGlite, or PostgreSQL 15 with DATABASE_URL) with the bench's user and kind — one
 * slot of `count` files up to `maxBytes` of `mime` — and stand-ins over it. Each stand-in gets its
 * own byte directory, in memory (tmpfs) where there is one: disk writeback of 100 MB per timing
 * stalls whichever path happens to be writing.
 */
export async function serverHost(
  database: 'pglite' | 'postgres',
  count: number,
  maxBytes: number,
  mime: string,
): Promise<ServerHost> {
  const db: TestDb = database === 'postgres' ? await createPgDb() : await createPgliteDb();
  const userId = await createUser(db);
  const { kind } = await defineKind(db, {
    kind: 'bench_upload',
    requirements: [{ slot: 'document', minCount: 1, maxCount: count, maxBytes, allowedMimeTypes: [mime] }],
  });
  let running: { local: LocalSupabase; directory: string } | undefined;
  const stop = async () => {
    if (!running) return;
    const { local, directory } = running;
    running = undefined;
    await local.close();
    await rm(directory, { recursive: true, force: true });
  };
  return {
    userId,
    kind,
    start: async () => {
      if (running) throw new Error('a stand-in is already running');
      const directory = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bench-upload-'));
      const local = await startLocalSupabase(db, { directory });
      running = { local, directory };
      return { url: local.url, anonKey: local.anonKey, token: local.tokenFor(userId) };
    },
    stop,
    close: async () => {
      await stop();
      await db.close();
    },
  };
}

if (process.env.BENCH_UPLOAD_SERVER === '1' && process.send) {
  let host: ServerHost | undefined;
  const handle = async (request: ServerRequest): Promise<unknown> => {
    if (request.op === 'init') {
      host = await serverHost(request.database, request.count, request.maxBytes, request.mime);
      return { userId: host.userId, kind: host.kind };
    }
    if (!host) throw new Error(`${request.op} before init`);
    if (request.op === 'start') return host.start();
    if (request.op === 'stop') return host.stop().then(() => ({}));
    return host.close().then(() => ({}));
  };
  process.on('message', (request: ServerRequest) => {
    handle(request).then(
      (value) => {
        process.send!({ ok: true, value }, () => {
          if (request.op === 'exit') process.disconnect();
        });
      },
      (error: unknown) =>
        process.send!({ ok: false, error: String(error instanceof Error ? error.stack : error) }),
    );
  });
}

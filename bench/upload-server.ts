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

/** A running stand-in: where it listens, and how to close it and remove its bytes. */
export interface ServerHandle extends Started {
  close: () => Promise<void>;
}

/**
 * A fresh stand-in over `db` with its own byte directory. Bytes go to memory (tmpfs) where there
 * is one: disk writeback of 100 MB per timing stalls whichever path happens to be writing.
 */
export async function startServer(db: TestDb, userId: string): Promise<ServerHandle> {
  const directory = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'bench-upload-'));
  const local: LocalSupabase = await startLocalSupabase(db, { directory });
  return {
    url: local.url,
    anonKey: local.anonKey,
    token: local.tokenFor(userId),
    close: async () => {
      await local.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The bench's user and kind on `db`: one slot of `count` files up to `maxBytes` of `mime`. */
export async function prepare(
  db: TestDb,
  count: number,
  maxBytes: number,
  mime: string,
): Promise<{ userId: string; kind: string }> {
  const userId = await createUser(db);
  const { kind } = await defineKind(db, {
    kind: 'bench_upload',
    requirements: [{ slot: 'document', minCount: 1, maxCount: count, maxBytes, allowedMimeTypes: [mime] }],
  });
  return { userId, kind };
}

if (process.env.BENCH_UPLOAD_SERVER === '1' && process.send) {
  let db: TestDb | undefined;
  let userId = '';
  let server: ServerHandle | undefined;
  const handle = async (request: ServerRequest): Promise<unknown> => {
    switch (request.op) {
      case 'init': {
        db = request.database === 'postgres' ? await createPgDb() : await createPgliteDb();
        const prepared = await prepare(db, request.count, request.maxBytes, request.mime);
        userId = prepared.userId;
        return prepared;
      }
      case 'start': {
        if (!db) throw new Error('start before init');
        if (server) throw new Error('a server is already running');
        server = await startServer(db, userId);
        const { close: _close, ...started } = server;
        return started;
      }
      case 'stop': {
        await server?.close();
        server = undefined;
        return {};
      }
      case 'exit': {
        await server?.close();
        await db?.close();
        return {};
      }
    }
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

/**
 * A local Supabase for tests and the demo, on loopback: PostgREST's `/rest/v1/rpc/*` and
 * Storage's upload endpoints over one SqlClient (PGlite with the shim, or PostgreSQL). supabase-js
 * talks to it unchanged.
 *
 * @example
 * ```ts
 * const local = await startLocalSupabase(db, { directory });
 * const supabase = createClient(local.url, local.anonKey, { accessToken: async () => local.tokenFor(userId) });
 * ```
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SqlClient } from '../db/client.js';
import { signLocalJwt } from './jwt.js';
import { sendJson, type RecordedRequest } from './http.js';
import { createRpcHandler } from './rpc-handler.js';
import { createStorageHandler } from './storage-server.js';

export interface LocalSupabaseOptions {
  /** Where uploaded bytes are kept. */
  directory: string;
  jwtSecret?: string;
  anonKey?: string;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** The clock JWTs expire by (ms since the epoch), for tests of expiry; default `Date.now`. */
  now?: () => number;
}

export async function startLocalSupabase(db: SqlClient, options: LocalSupabaseOptions) {
  const jwtSecret = options.jwtSecret ?? randomBytes(32).toString('hex');
  const anonKey = options.anonKey ?? signLocalJwt({ role: 'anon' }, jwtSecret);
  const serviceKey = signLocalJwt({ role: 'service_role' }, jwtSecret);
  const now = options.now ?? Date.now;
  const log: RecordedRequest[] = [];
  const auth = { jwtSecret, anonKey, serviceKey, now };
  const rpc = createRpcHandler(db, { ...auth, log });
  await rpc.loadSchemaCache();
  const storage = createStorageHandler(db, { ...auth, directory: options.directory, log });

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    const handled = (async () => {
      const rpcMatch = /^\/rest\/v1\/rpc\/([^/?]+)/.exec(url);
      if (rpcMatch) return rpc(req, res, decodeURIComponent(rpcMatch[1]!)).then(() => true);
      return storage.handle(req, res);
    })();
    handled
      .then((ok) => {
        if (!ok) sendJson(res, 404, { message: `no route ${req.method} ${url}` });
      })
      .catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { message: String(error) });
        else res.destroy();
      });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    anonKey,
    /** The service_role key (a JWT with role `service_role`), for workers and admin clients. */
    serviceKey,
    /** Every request the server answered, in order. */
    log,
    /** Every write of the resumable store (offset, end, bytes). */
    writes: storage.writes,
    readObject: storage.readObject,
    /** A signed-in user's access token, valid for `seconds` (default 3600) from the server's clock. */
    tokenFor: (userId: string, seconds = 3600) =>
      signLocalJwt(
        {
          sub: userId,
          role: 'authenticated',
          aud: 'authenticated',
          exp: Math.floor(now() / 1000) + seconds,
        },
        jwtSecret,
      ),
    serviceToken: () => serviceKey,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type LocalSupabase = Awaited<ReturnType<typeof startLocalSupabase>>;

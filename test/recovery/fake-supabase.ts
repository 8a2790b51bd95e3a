/**
 * A loopback stand-in for the two Supabase endpoints the deletion worker uses, backed by a test
 * database (Supabase itself cannot run here):
 *   * PostgREST RPC — `POST /rest/v1/rpc/{fn}` with the JSON arguments, run as the role of the
 *     bearer token; errors answer `{ code, message, details, hint }` like PostgREST;
 *   * Storage remove — `DELETE /storage/v1/object/{bucket}` with `{ prefixes: [...] }` (1..1000
 *     paths), answering the array of objects deleted; with the service key the rows are deleted
 *     the way the storage server does it (`storage.allow_delete_query`). A key that may not delete
 *     gets `200 []`, not an error — the documented behaviour the worker must cope with.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { actAs, type SqlClient } from '../../src/db/client.js';

export const SERVICE_KEY = 'test-service-role-key';
export const ANON_KEY = 'test-anon-key';

export interface RemoveCall {
  bucketId: string;
  prefixes: string[];
}

export interface FakeSupabase {
  url: string;
  removeCalls: RemoveCall[];
  /** Answer the next `n` remove calls with HTTP 500. */
  failNextRemoves(n: number): void;
  /** Answer removes with `200 []` without deleting (as for a caller the policies refuse). */
  denyDeletes(deny: boolean): void;
  close(): Promise<void>;
}

const RPCS: Record<string, { sql: string; args: (body: Record<string, unknown>) => unknown[] }> = {
  claim_storage_deletions: {
    sql: `select coalesce(json_agg(c), '[]'::json) as result from public.claim_storage_deletions($1, $2) c`,
    args: (b) => [b.batch ?? 1000, b.lease_seconds ?? 300],
  },
  complete_storage_deletions: {
    sql: `select public.complete_storage_deletions($1::bigint[]) as result`,
    args: (b) => [b.ids],
  },
  fail_storage_deletions: {
    sql: `select public.fail_storage_deletions($1::bigint[], $2) as result`,
    args: (b) => [b.ids, b.error],
  },
};

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startFakeSupabase(db: SqlClient): Promise<FakeSupabase> {
  const removeCalls: RemoveCall[] = [];
  let failing = 0;
  let denying = false;

  const server: Server = createServer(async (request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    try {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const isService = request.headers.authorization === `Bearer ${SERVICE_KEY}`;
      const body = await readJson(request);

      const rpc = /^\/rest\/v1\/rpc\/([a-z_]+)$/.exec(url.pathname);
      if (rpc && request.method === 'POST') {
        const fn = RPCS[rpc[1]!];
        if (!fn)
          return send(404, { code: 'PGRST202', message: `Could not find the function public.${rpc[1]}` });
        try {
          const { rows } = await db.transaction(async (tx) => {
            await actAs(tx, isService ? { role: 'service_role' } : { role: 'anon' });
            return tx.query<{ result: unknown }>(fn.sql, fn.args(body));
          });
          return send(200, rows[0]!.result);
        } catch (error) {
          const e = error as { code?: string; message?: string; detail?: string; hint?: string };
          return send(e.code === '42501' ? 401 : 400, {
            code: e.code,
            message: e.message,
            details: e.detail ?? null,
            hint: e.hint ?? null,
          });
        }
      }

      const remove = /^\/storage\/v1\/object\/([^/]+)$/.exec(url.pathname);
      if (remove && request.method === 'DELETE') {
        const bucketId = decodeURIComponent(remove[1]!);
        const prefixes = body.prefixes;
        if (!Array.isArray(prefixes) || prefixes.length < 1 || prefixes.length > 1000) {
          return send(400, {
            statusCode: '400',
            error: 'Bad Request',
            message: 'body/prefixes must have 1 to 1000 items',
          });
        }
        removeCalls.push({ bucketId, prefixes: prefixes as string[] });
        if (failing > 0) {
          failing -= 1;
          return send(500, { statusCode: '500', error: 'internal', message: 'storage backend unavailable' });
        }
        if (!isService || denying) return send(200, []);
        const { rows } = await db.transaction(async (tx) => {
          await actAs(tx, { role: 'service_role' });
          await tx.query(`select set_config('storage.allow_delete_query', 'true', true)`);
          return tx.query(
            `delete from storage.objects where bucket_id = $1 and name = any($2::text[])
             returning id, name, bucket_id, owner, owner_id, created_at, updated_at, last_accessed_at, metadata`,
            [bucketId, prefixes],
          );
        });
        return send(200, rows);
      }
      return send(404, {
        statusCode: '404',
        error: 'not_found',
        message: `no route ${request.method} ${url.pathname}`,
      });
    } catch (error) {
      return send(500, { statusCode: '500', error: 'internal', message: String(error) });
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    removeCalls,
    failNextRemoves: (n) => void (failing = n),
    denyDeletes: (deny) => void (denying = deny),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

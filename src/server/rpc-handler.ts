/**
 * A PostgREST-compatible `POST /rest/v1/rpc/{fn}` over a SqlClient, for tests and the demo:
 * the named JSON arguments become named SQL arguments, the call runs as the JWT's role and user
 * (`set local role` + `request.jwt.claims`, as PostgREST does), and errors answer PostgREST's
 * body `{ code, message, details, hint }` with PostgREST's HTTP status for the SQLSTATE.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { withActor, type SqlClient } from '../db/client.js';
import {
  authenticate,
  headersOf,
  readBody,
  sendJson,
  type LocalAuthOptions,
  type RecordedRequest,
} from './http.js';

/** PostgREST's HTTP status for a SQLSTATE (docs: "Errors → HTTP status codes"). */
export function postgrestStatus(sqlstate: string, authenticated: boolean): number {
  if (sqlstate === '42501') return authenticated ? 403 : 401;
  if (sqlstate === '42883' || sqlstate === '42P01') return 404;
  if (sqlstate === '23503' || sqlstate === '23505') return 409;
  if (sqlstate === 'P0001') return 400;
  if (/^(08|53)/.test(sqlstate)) return 503;
  if (/^(09|25|2D|38|39|3B|40|54|55|57|58|F0|HV|P0|XX)/.test(sqlstate)) return 500;
  if (/^(0L|0P|28)/.test(sqlstate)) return 403;
  return 400;
}

export function createRpcHandler(db: SqlClient, options: LocalAuthOptions & { log?: RecordedRequest[] }) {
  /**
   * Return types of the functions found so far: PostgREST's schema cache. Only hits are kept, so a
   * function created later is found on its first call (PostgREST reloads on NOTIFY instead).
   */
  const returnTypes = new Map<string, string>();
  async function returnTypeOf(fn: string): Promise<string | undefined> {
    const cached = returnTypes.get(fn);
    if (cached !== undefined) return cached;
    const { rows } = await db.query<{ returns: string }>(
      `select p.prorettype::regtype::text as returns from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.proname = $1 limit 1`,
      [fn],
    );
    if (rows[0]) returnTypes.set(fn, rows[0].returns);
    return rows[0]?.returns;
  }

  return async function handleRpc(req: IncomingMessage, res: ServerResponse, fn: string): Promise<void> {
    const headers = headersOf(req);
    const entry: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers };
    options.log?.push(entry);
    const answer = (status: number, body: unknown) => {
      entry.status = status;
      if (status === 204) {
        res.writeHead(204).end();
      } else sendJson(res, status, body);
    };
    if (req.method !== 'POST') return answer(405, { message: 'use POST for rpc' });
    const auth = authenticate(headers, options);
    if (!auth.ok) return answer(auth.status, auth.body);
    if (!/^application\/json/.test(headers['content-type'] ?? '')) {
      return answer(415, {
        code: 'PGRST102',
        message: 'Content-Type must be application/json',
        details: null,
        hint: null,
      });
    }
    let args: Record<string, unknown>;
    try {
      args = JSON.parse((await readBody(req)).toString('utf8') || '{}');
    } catch {
      return answer(400, { code: 'PGRST102', message: 'Empty or invalid json', details: null, hint: null });
    }
    entry.body = args;
    if (!/^[a-z_][a-z0-9_]*$/.test(fn) || typeof args !== 'object' || args === null || Array.isArray(args)) {
      return answer(404, {
        code: 'PGRST202',
        message: `Could not find the function public.${fn}`,
        details: null,
        hint: null,
      });
    }
    const returns = await returnTypeOf(fn);
    if (returns === undefined) {
      return answer(404, {
        code: 'PGRST202',
        message: `Could not find the function public.${fn}(${Object.keys(args).join(', ')}) in the schema cache`,
        details: null,
        hint: null,
      });
    }
    const names = Object.keys(args).filter((n) => /^[a-z_][a-z0-9_]*$/.test(n));
    const call = `select public.${fn}(${names.map((n, i) => `${n} => $${i + 1}`).join(', ')}) as result`;
    const values = names.map((n) => {
      const v = args[n];
      return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
    });
    try {
      const { rows } = await withActor(db, auth.actor, (tx) => tx.query<{ result: unknown }>(call, values));
      if (returns === 'void') return answer(204, undefined);
      return answer(200, rows[0]?.result ?? null);
    } catch (error) {
      const e = error as { code?: string; message?: string; detail?: string; hint?: string };
      const code = e.code ?? 'XX000';
      return answer(postgrestStatus(code, auth.actor.role !== 'anon'), {
        code,
        message: e.message ?? 'error',
        details: e.detail ?? null,
        hint: e.hint ?? null,
      });
    }
  };
}

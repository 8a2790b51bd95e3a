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

interface Signature {
  returns: string;
  /** Returns a set (`returns table`/`setof`): answered as a JSON array, as PostgREST does. */
  set: boolean;
  args: { name: string; type: string; optional: boolean }[];
}

export function createRpcHandler(db: SqlClient, options: LocalAuthOptions & { log?: RecordedRequest[] }) {
  /**
   * Signatures of the public functions: PostgREST's schema cache, loaded once at startup
   * ({@link RpcHandler.loadSchemaCache}) as PostgREST loads it when it boots. A function created
   * later is looked up on its first call (PostgREST reloads on NOTIFY instead); only hits are kept.
   */
  const signatures = new Map<string, Signature[]>();
  async function lookUp(fn: string | null): Promise<Map<string, Signature[]>> {
    const { rows } = await db.query<{
      name: string;
      returns: string;
      set: boolean;
      names: string[] | null;
      types: string[];
      defaults: number;
    }>(
      `select p.proname as name, p.prorettype::regtype::text as returns, p.proretset as set,
              p.pronargdefaults as defaults, p.proargnames[1:p.pronargs] as names,
              array(select format_type(t, null) from unnest(p.proargtypes::oid[]) t) as types
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and ($1::text is null or p.proname = $1)`,
      [fn],
    );
    const found = new Map<string, Signature[]>();
    for (const r of rows) {
      const list = found.get(r.name) ?? [];
      list.push({
        returns: r.returns,
        set: r.set,
        args: r.types.map((type, i) => ({
          name: r.names?.[i] ?? '',
          type,
          optional: i >= r.types.length - r.defaults,
        })),
      });
      found.set(r.name, list);
    }
    for (const [name, list] of found) signatures.set(name, list);
    return found;
  }
  async function signaturesOf(fn: string): Promise<Signature[]> {
    return signatures.get(fn) ?? (await lookUp(fn)).get(fn) ?? [];
  }

  const handle = async function handleRpc(
    req: IncomingMessage,
    res: ServerResponse,
    fn: string,
  ): Promise<void> {
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
    // PostgREST picks the overload whose parameters are exactly the keys sent (plus defaults).
    const keys = Object.keys(args);
    const signature = (await signaturesOf(fn)).find(
      (sig) =>
        keys.every((k) => sig.args.some((a) => a.name === k)) &&
        sig.args.every((a) => a.optional || keys.includes(a.name)),
    );
    if (signature === undefined) {
      return answer(404, {
        code: 'PGRST202',
        message: `Could not find the function public.${fn}(${keys.join(', ')}) in the schema cache`,
        details: null,
        hint: null,
      });
    }
    const returns = signature.returns;
    // As PostgREST does: the JSON body becomes a record of the parameters' declared types, so a
    // JSON array reaches a `bigint[]` parameter as an array and an object a `jsonb` one as JSON.
    const sent = signature.args.filter((a) => keys.includes(a.name));
    const fnCall = `public.${fn}(${sent.map((a) => `"${a.name}" => a."${a.name}"`).join(', ')})`;
    const record = `json_to_record($1::json) as a(${sent.map((a) => `"${a.name}" ${a.type}`).join(', ') || 'none_ text'})`;
    const call = signature.set
      ? `select coalesce(json_agg(r), '[]'::json) as result from ${record}, lateral ${fnCall} r`
      : `select ${fnCall} as result from ${record}`;
    const values = [JSON.stringify(args)];
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
  /** Loads every public function's signature at once (PostgREST's schema cache at boot). */
  const loadSchemaCache = async (): Promise<void> => {
    await lookUp(null);
  };
  return Object.assign(handle, { loadSchemaCache });
}

export type RpcHandler = ReturnType<typeof createRpcHandler>;

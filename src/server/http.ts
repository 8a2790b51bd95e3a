/**
 * Small HTTP helpers shared by the local servers: auth as Supabase's gateway does it, JSON
 * answers, and a request log tests assert against.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Actor } from '../db/client.js';
import { verifyLocalJwt } from './jwt.js';

export interface LocalAuthOptions {
  /** Secret the local JWTs are signed with. */
  jwtSecret: string;
  /** The anon key clients send as `apikey`. */
  anonKey: string;
  /** The service_role key, also accepted as `apikey`. */
  serviceKey?: string;
  /** The clock tokens expire by (ms since the epoch); default `Date.now`. */
  now?: () => number;
}

/** One request as the server saw it (headers lower-cased). */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
  status?: number;
}

export function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export type AuthResult =
  { ok: true; actor: Actor } | { ok: false; status: number; body: Record<string, unknown> };

/**
 * `apikey` must be the anon or the service key; `Authorization: Bearer` a valid, unexpired local
 * JWT (anon if absent). A refused bearer answers PostgREST's body (`PGRST303` expired, `PGRST301`
 * invalid); Storage renders its own from the message.
 */
export function authenticate(headers: Record<string, string>, options: LocalAuthOptions): AuthResult {
  if (headers.apikey !== options.anonKey && (!options.serviceKey || headers.apikey !== options.serviceKey)) {
    return {
      ok: false,
      status: 401,
      body: {
        message: 'No API key found in request',
        hint: 'No `apikey` request header or url param was found.',
      },
    };
  }
  const bearer = /^Bearer (.+)$/i.exec(headers.authorization ?? '')?.[1];
  if (!bearer) return { ok: true, actor: { role: 'anon' } };
  const claims = verifyLocalJwt(bearer, options.jwtSecret, Number.NEGATIVE_INFINITY);
  if (!claims) {
    return {
      ok: false,
      status: 401,
      body: { code: 'PGRST301', message: 'invalid signature', details: null, hint: null },
    };
  }
  if (claims.exp !== undefined && claims.exp * 1000 < (options.now ?? Date.now)()) {
    return {
      ok: false,
      status: 401,
      body: { code: 'PGRST303', message: 'jwt expired', details: null, hint: null },
    };
  }
  if (claims.role === 'authenticated' && claims.sub)
    return { ok: true, actor: { role: 'authenticated', userId: claims.sub } };
  if (claims.role === 'service_role') return { ok: true, actor: { role: 'service_role' } };
  return { ok: true, actor: { role: 'anon' } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Signed download URLs on the local server, the way Supabase Storage answers them (for tests and
 * the demo): `POST /storage/v1/object/sign/{bucket}` with `{ expiresIn, paths }` signs each path
 * the caller may SELECT (RLS decides, as the caller) and answers `[{ error, path, signedURL }]`,
 * `signedURL` relative to `/storage/v1`; `GET /storage/v1/object/sign/{bucket}/{path}?token=…`
 * serves the bytes to anyone holding an unexpired token for exactly that object.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { actAs, type Actor, type SqlClient } from '../db/client.js';
import { readBody, sendJson } from './http.js';

export const SIGN_PREFIX = '/storage/v1/object/sign/';

export interface SigningOptions {
  jwtSecret: string;
  now?: () => number;
  /** The caller of a request (throws on a bad token, like every storage route). */
  callerOf(headers: Record<string, string>): Actor;
  readObject(bucketId: string, name: string): Promise<Uint8Array | undefined>;
}

const NOT_READABLE = 'Either the object does not exist or you do not have access to it';

export function createSigningRoutes(db: SqlClient, options: SigningOptions) {
  const now = () => options.now?.() ?? Date.now();
  const mac = (payload: string) =>
    createHmac('sha256', options.jwtSecret).update(payload).digest('base64url');
  const tokenFor = (object: string, exp: number) => {
    const body = Buffer.from(JSON.stringify({ url: object, exp })).toString('base64url');
    return `${body}.${mac(body)}`;
  };
  const objectOf = (token: string): string | null => {
    const [body, sig] = token.split('.');
    if (!body || !sig) return null;
    const given = Buffer.from(sig, 'base64url');
    const expected = Buffer.from(mac(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
      url: string;
      exp: number;
    };
    return claims.exp * 1000 > now() ? claims.url : null;
  };

  async function sign(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>) {
    const bucketId = decodeURIComponent((req.url ?? '').slice(SIGN_PREFIX.length).split('?')[0]!);
    let caller: Actor;
    try {
      caller = options.callerOf(headers);
    } catch (error) {
      const answer = (error as { answer?: { body: unknown } }).answer;
      return sendJson(res, 400, answer?.body ?? { message: 'invalid JWT' });
    }
    const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as {
      expiresIn?: unknown;
      paths?: unknown;
    };
    if (typeof body.expiresIn !== 'number' || body.expiresIn < 1 || !Array.isArray(body.paths)) {
      return sendJson(res, 400, {
        statusCode: '400',
        error: 'InvalidRequest',
        message: 'body needs expiresIn ≥ 1 and paths',
      });
    }
    const paths = body.paths as string[];
    const { rows } = await db.transaction(async (tx) => {
      await actAs(tx, caller);
      return tx.query<{ name: string }>(
        'select name from storage.objects where bucket_id = $1 and name = any($2::text[])',
        [bucketId, paths],
      );
    });
    const readable = new Set(rows.map((r) => r.name));
    const exp = Math.floor(now() / 1000) + body.expiresIn;
    sendJson(
      res,
      200,
      paths.map((path) =>
        readable.has(path)
          ? {
              error: null,
              path,
              signedURL: `/object/sign/${bucketId}/${path}?token=${tokenFor(`${bucketId}/${path}`, exp)}`,
            }
          : { error: NOT_READABLE, path, signedURL: null },
      ),
    );
  }

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '', 'http://local');
    const object = decodeURIComponent(url.pathname.slice(SIGN_PREFIX.length));
    const token = url.searchParams.get('token') ?? '';
    if (objectOf(token) !== object) {
      return sendJson(res, 400, {
        statusCode: '400',
        error: 'InvalidSignature',
        message: 'invalid or expired signature',
      });
    }
    const slash = object.indexOf('/');
    const bytes = await options.readObject(object.slice(0, slash), object.slice(slash + 1));
    if (!bytes)
      return sendJson(res, 400, { statusCode: '404', error: 'not_found', message: 'Object not found' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    res.end(bytes);
  }

  return {
    /** Answers a signing route; false for any other request. */
    async handle(
      req: IncomingMessage,
      res: ServerResponse,
      headers: Record<string, string>,
    ): Promise<boolean> {
      if (!(req.url ?? '').startsWith(SIGN_PREFIX)) return false;
      if (req.method === 'POST') await sign(req, res, headers);
      else if (req.method === 'GET') await serve(req, res);
      else sendJson(res, 405, { message: 'POST to sign, GET to download' });
      return true;
    },
  };
}

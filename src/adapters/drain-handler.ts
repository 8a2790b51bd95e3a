/**
 * The deletion drain as a web request handler, `(request: Request) => Promise<Response>`: what
 * `Deno.serve` takes in a Supabase Edge Function, and what any runtime with web `Request`s can
 * call (Node ≥ 20, Bun, Cloudflare Workers). One POST = one {@link drainStorageDeletions} run; the
 * answer is its report as JSON. Nothing in it is specific to a runtime: the client (made with the
 * service_role key) and the token come from the caller, who reads them from its environment.
 *
 * @example
 * ```ts
 * // supabase/functions/upload-lifecycle-drain/index.ts
 * import { createClient } from 'npm:@supabase/supabase-js@2';
 * import { createDrainHandler } from 'npm:upload-lifecycle@0/supabase';
 *
 * const serviceKey = Deno.env.get('SUPABASE_SERVICE_ROLE_KEY')!;
 * const admin = createClient(Deno.env.get('SUPABASE_URL')!, serviceKey, { auth: { persistSession: false } });
 * Deno.serve(createDrainHandler(admin, { token: serviceKey }));
 * ```
 */
import { toUploadLifecycleError } from '../errors.js';
import { drainStorageDeletions, type DrainOptions, type StorageAdminClient } from './storage-deletions.js';

export interface DrainHandlerOptions extends DrainOptions {
  /**
   * When set, a request must carry `Authorization: Bearer <token>` (pass the service key: the
   * scheduler that calls the function has it). Supabase's gateway checks the JWT before the
   * function runs too, unless the function is deployed with `--no-verify-jwt`.
   */
  token?: string;
}

/** Compares without stopping at the first difference, so the time taken does not leak the token. */
function sameText(a: string, b: string): boolean {
  let differ = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    differ |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return differ === 0;
}

/** True when no token is required, or the request carries `Authorization: Bearer <token>`. */
export function bearerAccepted(request: Request, token: string | undefined): boolean {
  return token === undefined || sameText(request.headers.get('authorization') ?? '', `Bearer ${token}`);
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * A handler that drains the outbox once per POST and answers the {@link DrainReport} (`failures`
 * as their `toJSON()`); HTTP 500 when the outbox itself could not be read (the RPCs failed).
 * The body may set `batchSize` and `maxBatches` for that run.
 */
export function createDrainHandler(
  client: StorageAdminClient,
  options: DrainHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const { token, ...defaults } = options;
  return async (request) => {
    if (request.method !== 'POST') return json(405, { message: 'POST to run the drain' });
    if (!bearerAccepted(request, token)) {
      return json(401, { message: 'a bearer token this function accepts is required' });
    }
    let body: { batchSize?: unknown; maxBatches?: unknown } = {};
    try {
      const text = await request.text();
      if (text) body = JSON.parse(text) as typeof body;
    } catch {
      return json(400, { message: 'the body must be JSON: { "batchSize"?: number, "maxBatches"?: number }' });
    }
    const run: DrainOptions = { ...defaults };
    if (typeof body.batchSize === 'number') run.batchSize = body.batchSize;
    if (typeof body.maxBatches === 'number') run.maxBatches = body.maxBatches;
    try {
      const report = await drainStorageDeletions(client, run);
      return json(200, { ...report, failures: report.failures.map((error) => error.toJSON()) });
    } catch (error) {
      if (error instanceof RangeError) return json(400, { message: error.message });
      return json(500, { error: toUploadLifecycleError(error).toJSON() });
    }
  };
}

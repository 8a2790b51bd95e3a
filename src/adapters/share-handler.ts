/**
 * Reading a share link on the server: {@link getSharedDownloads} asks `get_shared_upload` whether
 * the token shares a completed upload, then signs download URLs for exactly the files it lists —
 * with the service key, because the person holding the link has no account. {@link createShareHandler}
 * is the same as a web request handler, `(request: Request) => Promise<Response>`: what `Deno.serve`
 * takes in a Supabase Edge Function, and what Node ≥ 20, Bun or a Next.js route handler can call.
 * Nothing in it is specific to a runtime; the service client comes from the caller.
 *
 * @example
 * ```ts
 * // supabase/functions/upload-lifecycle-share/index.ts
 * import { createClient } from 'npm:@supabase/supabase-js@2';
 * import { createShareHandler } from 'npm:upload-lifecycle@0/supabase';
 *
 * const admin = createClient(Deno.env.get('SUPABASE_URL')!, Deno.env.get('SUPABASE_SERVICE_ROLE_KEY')!);
 * Deno.serve(createShareHandler(admin, { expiresIn: 600 }));
 * ```
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import type { FileDownload, SharedUpload } from '../core/port.js';
import { toUploadLifecycleError } from '../errors.js';
import { parseSharedUpload } from './journey-answers.js';
import { signDownloads } from './signed-urls.js';

export interface ShareHandlerOptions {
  /** Seconds each signed URL stays valid. Default 600. */
  expiresIn?: number;
  /** `Access-Control-Allow-Origin` of the answers (the link is opened from your site). Default `*`. */
  allowOrigin?: string;
}

/** A shared upload and a signed URL for each of its files. */
export interface SharedDownloads {
  upload: SharedUpload;
  files: FileDownload[];
}

/**
 * Reads the upload a share token gives access to and signs its files' URLs. Rejects with
 * `EntityNotFoundError` (UL003) for a wrong, revoked or expired token — all three alike, so a
 * guesser learns nothing.
 *
 * @example
 * ```ts
 * const admin = createClient(url, serviceRoleKey); // server side only
 * const { upload, files } = await getSharedDownloads(admin, token, { expiresIn: 300 });
 * ```
 */
export async function getSharedDownloads(
  serviceClient: Pick<SupabaseClient, 'rpc' | 'storage'>,
  token: string,
  options: Pick<ShareHandlerOptions, 'expiresIn'> = {},
): Promise<SharedDownloads> {
  const { data, error } = await serviceClient.rpc('get_shared_upload', { token });
  if (error) throw toUploadLifecycleError(error);
  const upload = parseSharedUpload(data);
  return { upload, files: await signDownloads(serviceClient, upload.files, options.expiresIn ?? 600) };
}

/**
 * A handler answering `GET ?token=…` (or `POST { "token": … }`) with {@link SharedDownloads} as
 * JSON; 404 with the typed error for a token that shares nothing, 400 without a token.
 */
export function createShareHandler(
  serviceClient: Pick<SupabaseClient, 'rpc' | 'storage'>,
  options: ShareHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const cors = {
    'access-control-allow-origin': options.allowOrigin ?? '*',
    'access-control-allow-headers': 'authorization, apikey, content-type',
    'access-control-allow-methods': 'GET, POST, OPTIONS',
  };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...cors } });
  return async (request) => {
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors });
    let token: unknown = new URL(request.url).searchParams.get('token');
    if (request.method === 'POST') {
      try {
        token = ((await request.json()) as { token?: unknown }).token;
      } catch {
        token = undefined;
      }
    } else if (request.method !== 'GET') {
      return json(405, { message: 'GET ?token=… or POST { "token": … }' });
    }
    if (typeof token !== 'string' || token === '') {
      return json(400, { message: 'a share token is required: GET ?token=… or POST { "token": … }' });
    }
    try {
      return json(200, await getSharedDownloads(serviceClient, token, options));
    } catch (error) {
      const typed = toUploadLifecycleError(error);
      return json(typed.code === 'UL003' ? 404 : 500, { error: typed.toJSON() });
    }
  };
}

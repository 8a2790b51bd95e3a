/**
 * `upload-lifecycle/supabase`: the Backend over a supabase-js client. RPCs go through
 * `client.rpc()`; bytes go either through `storage.from(bucket).upload()` (small files) or, with
 * byte progress and resume, through tus-js-client against Supabase's resumable endpoint
 * `/storage/v1/upload/resumable` (6 MB chunks — the size Supabase requires —, `x-upsert: false`).
 *
 * A dropped connection resumes from the last acknowledged offset: the upload URL of every
 * unfinished object is remembered, and the next `uploadObject` for the same object asks the
 * server for its offset (HEAD) instead of starting again. In browsers the URL is also kept in
 * tus-js-client's URL storage (localStorage), so a reloaded page resumes a half-sent file too.
 * Standard uploads cannot be cancelled mid-request (storage-js takes no signal): on abort the
 * caller is released at once and the answer is ignored.
 *
 * @example
 * ```ts
 * const supabase = createClient(url, anonKey);
 * const backend = createSupabaseBackend(supabase, { resumableThreshold: 6 * 1024 * 1024 });
 * const machine = createUploadMachine({ backend });
 * ```
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import * as tus from 'tus-js-client';
import { toUploadLifecycleError } from '../errors.js';
import type { JourneyBackend, ObjectTransfer } from './backend.js';
import { downloadTargets } from './downloads.js';
import { sha256Of } from './hash.js';
import { signDownloads } from './signed-urls.js';
import { abortError, networkError, storageError, storageFailure } from './storage-errors.js';
import { rpcMethods } from './rpc.js';
import { toTusInput } from './tus-input.js';

/** Supabase's resumable endpoint requires exactly this chunk size. */
export const SUPABASE_TUS_CHUNK_SIZE = 6 * 1024 * 1024;

export interface SupabaseBackendOptions {
  /** Project URL; default the client's own. */
  url?: string;
  /** The anon (publishable) key sent as `apikey`; default the client's own. */
  apiKey?: string;
  /**
   * The signed-in user's JWT, read before every request. Default: the token the client itself
   * sends (see {@link clientAccessToken}).
   */
  accessToken?: () => Promise<string | null | undefined>;
  /**
   * Files of at least this many bytes go through the resumable endpoint; smaller ones through a
   * standard upload. `0` = always resumable, `Infinity` = never. Default 6 MB.
   */
  resumableThreshold?: number;
  /** `Cache-Control` max-age of stored objects, in seconds. Default 3600. */
  cacheControl?: number;
  /** Overrides for tus-js-client (e.g. `httpStack`); never `chunkSize`, `headers` or `metadata`. */
  tus?: Partial<tus.UploadOptions>;
}

type ClientInternals = {
  supabaseUrl?: string;
  supabaseKey?: string;
  accessToken?: () => Promise<string | null>;
  /** `global.headers` of `createClient`. */
  headers?: Record<string, string>;
};

/**
 * The bearer token a supabase-js client sends on its own requests, read now: the client's
 * `global.headers.Authorization` (supabase-js never overrides a header you set), else its
 * `accessToken` option (third-party auth), else the signed-in session's token (refreshed by
 * supabase-js when due), else the API key.
 *
 * @example
 * ```ts
 * const client = createClient(url, anonKey, { global: { headers: { Authorization: `Bearer ${jwt}` } } });
 * await clientAccessToken(client); // jwt
 * ```
 */
export async function clientAccessToken(client: SupabaseClient): Promise<string> {
  const internals = client as unknown as ClientInternals;
  const header = Object.entries(internals.headers ?? {}).find(
    ([name]) => name.toLowerCase() === 'authorization',
  );
  const fromHeader = header && /^Bearer\s+(.+)$/i.exec(header[1])?.[1];
  if (fromHeader) return fromHeader;
  // A client created with `accessToken` has no `auth` API: ask it instead.
  if (internals.accessToken) return (await internals.accessToken()) ?? internals.supabaseKey ?? '';
  const session = (await client.auth.getSession()).data.session;
  return session?.access_token ?? internals.supabaseKey ?? '';
}

/**
 * The Supabase backend: a plain object `satisfies Backend`.
 */
export function createSupabaseBackend(client: SupabaseClient, options: SupabaseBackendOptions = {}) {
  const internals = client as unknown as ClientInternals;
  const baseUrl = (options.url ?? internals.supabaseUrl ?? '').replace(/\/+$/, '');
  const apiKey = options.apiKey ?? internals.supabaseKey ?? '';
  const threshold = options.resumableThreshold ?? SUPABASE_TUS_CHUNK_SIZE;
  const cacheControl = String(options.cacheControl ?? 3600);
  /** Upload URLs of unfinished resumable uploads, by `bucket/path`: what a retry resumes. */
  const resumeUrls = new Map<string, string>();

  // Read per request, never once per upload: a session is refreshed while a long upload runs.
  const token = async () => (await options.accessToken?.()) ?? (await clientAccessToken(client));

  const rpc = rpcMethods(async (fn, args) => {
    let result: { data: unknown; error: unknown };
    try {
      result = await client.rpc(fn, args);
    } catch (error) {
      throw networkError(error);
    }
    if (result.error) {
      const e = result.error as { code?: string; message?: string };
      // supabase-js reports a request that got no answer with an empty code.
      if (!e.code && /fetch|network|ECONN|socket/i.test(e.message ?? '')) throw networkError(e);
      throw toUploadLifecycleError(result.error);
    }
    return result.data;
  });

  async function standardUpload(transfer: ObjectTransfer): Promise<void> {
    if (transfer.signal.aborted) throw abortError();
    // The token supabase-js is about to send (it reads the same sources), to tell an expired token
    // from a refusal: storage-js keeps status, statusCode and message, not the body's `code`.
    const sent = await token();
    transfer.onProgress?.(0, transfer.size);
    const aborted = new Promise<never>((_, reject) =>
      transfer.signal.addEventListener('abort', () => reject(abortError()), { once: true }),
    );
    const request = client.storage.from(transfer.bucketId).upload(transfer.objectPath, transfer.body, {
      contentType: transfer.contentType,
      cacheControl,
      upsert: transfer.upsert === true,
    });
    // storage-js cannot cancel an upload; on abort the caller is released and the answer ignored.
    const { error } = await Promise.race([request, aborted]);
    if (error) {
      const e = error as { status?: number; statusCode?: string; message: string; name?: string };
      if (e.status === undefined) throw networkError(error);
      throw storageFailure(e.status, { statusCode: e.statusCode, message: e.message }, { token: sent });
    }
    transfer.onProgress?.(transfer.size, transfer.size);
  }

  async function resumableUpload(transfer: ObjectTransfer): Promise<void> {
    if (transfer.signal.aborted) throw abortError();
    const key = `${transfer.bucketId}/${transfer.objectPath}`;
    /** The bearer of the last request sent, to tell an expired token from a refusal. */
    let sentToken: string | undefined;
    const body = toTusInput(transfer.body);
    /** Undone once the upload has settled: a later abort of the signal has nothing to stop. */
    let onAbort = () => {};
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(body as Blob, {
        ...options.tus,
        endpoint: `${baseUrl}/storage/v1/upload/resumable`,
        uploadUrl: resumeUrls.get(key) ?? null,
        uploadSize: transfer.size,
        chunkSize: SUPABASE_TUS_CHUNK_SIZE,
        // The machine retries with its own backoff; one failure = one rejection here.
        retryDelays: null,
        uploadDataDuringCreation: true,
        // In browsers the upload URL is also kept in localStorage under this object's own
        // fingerprint, so a reloaded page resumes a half-sent file from its last chunk. The
        // fingerprint is the object, not the file's content: the same file sent to two entities
        // must never resume into the other one's upload.
        fingerprint: async () => `upload-lifecycle:${baseUrl}:${key}`,
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        headers: { apikey: apiKey, 'x-upsert': transfer.upsert ? 'true' : 'false' },
        // The token is read before every request (as Uppy's tus plugin does): a session refreshed
        // during a long upload is picked up by the next chunk, or by the retry after InvalidJWT.
        onBeforeRequest: async (request) => {
          sentToken = await token();
          request.setHeader('Authorization', `Bearer ${sentToken}`);
          await options.tus?.onBeforeRequest?.(request);
        },
        metadata: {
          bucketName: transfer.bucketId,
          objectName: transfer.objectPath,
          contentType: transfer.contentType,
          cacheControl,
        },
        onUploadUrlAvailable: () => {
          if (upload.url) resumeUrls.set(key, upload.url);
        },
        onProgress: (sent, total) => transfer.onProgress?.(sent, total),
        onSuccess: () => {
          resumeUrls.delete(key);
          resolve();
        },
        onError: (error) => reject(tusError(error, () => resumeUrls.delete(key), sentToken)),
      });
      onAbort = () => {
        void upload.abort(false);
        reject(abortError());
      };
      transfer.signal.addEventListener('abort', onAbort, { once: true });
      const known = resumeUrls.has(key);
      void (known ? Promise.resolve([]) : upload.findPreviousUploads())
        .then((previous) => {
          if (transfer.signal.aborted) return;
          if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
          upload.start();
        })
        .catch((error: unknown) => reject(networkError(error)));
    }).finally(() => transfer.signal.removeEventListener('abort', onAbort));
  }

  return {
    name: 'supabase',
    ...rpc,
    uploadObject: (transfer) =>
      transfer.size >= threshold ? resumableUpload(transfer) : standardUpload(transfer),
    sha256Of,
    /**
     * Signed URLs (`createSignedUrls`, default 1 h) of an own completed upload's files. UL005 for
     * any other status, UL003 for another user's.
     */
    async getDownloadUrls(entityId, downloadOptions = {}) {
      const targets = downloadTargets(await rpc.getUploadState(entityId));
      return signDownloads(client, targets, downloadOptions.expiresIn ?? 3600);
    },
  } satisfies JourneyBackend;
}

export type SupabaseBackend = ReturnType<typeof createSupabaseBackend>;

/**
 * A tus-js-client failure as a typed error ({@link storageFailure}; `sentToken` is the bearer of
 * the failed request). A 404 or 410 on a request to an upload URL (HEAD, PATCH) means the upload is gone on the server, not that the bucket is: it is `NoSuchUpload`
 * (retryable) and the URL is forgotten, so the next try creates a new upload. A 404 on the
 * creation POST keeps its own meaning (no such bucket), and so does a 409 (an existing object on
 * POST, an offset conflict on PATCH). @internal exported for tests.
 */
export function tusError(error: Error | tus.DetailedError, forgetUrl: () => void, sentToken?: string) {
  const detailed = error as tus.DetailedError;
  const response = detailed.originalResponse;
  if (!response) return networkError(detailed.causingError ?? error);
  const status = response.getStatus();
  let body: unknown = response.getBody();
  try {
    body = JSON.parse(String(body));
  } catch {
    // a plain-text body stays text
  }
  const method = detailed.originalRequest?.getMethod().toUpperCase();
  if (status === 410 || (status === 404 && method !== undefined && method !== 'POST')) {
    forgetUrl();
    const message =
      typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
    return storageError(status, { code: 'NoSuchUpload', message: String(message ?? 'Upload not found') });
  }
  // A 409 on a PATCH is tus's offset mismatch (a dropped request's bytes were still being stored
  // when the offset was read), not an existing object (that is a 409 on the creation POST): the
  // URL stays, the next try reads the offset again.
  if (status === 409 && method === 'PATCH')
    return storageError(status, {
      code: 'OffsetConflict',
      message: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return storageFailure(status, body, { token: sentToken });
}

// The deletion outbox worker (issue 7): removes queued objects through the Storage API.
export {
  MAX_REMOVE_BATCH,
  drainStorageDeletions,
  type DrainOptions,
  type DrainReport,
  type StorageAdminClient,
} from './storage-deletions.js';
export { createDrainHandler, type DrainHandlerOptions } from './drain-handler.js';
export {
  createShareHandler,
  getSharedDownloads,
  type ShareHandlerOptions,
  type SharedDownloads,
} from './share-handler.js';
export { signDownloads } from './signed-urls.js';

// For a custom transport (your own fetch, an Edge Function): the RPC half of a Backend over any
// "call this function with named arguments", and the parsers of the RPCs' answers.
export { rpcMethods, type RpcCaller, type RpcMethods } from './rpc.js';
export { storageError, storageFailure, tokenExpired } from './storage-errors.js';
export { parseRegisteredFile, parseUploadState, uploadStateSchema } from './upload-state.js';

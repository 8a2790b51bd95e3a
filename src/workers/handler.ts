/**
 * The processing worker as a web request handler, `(request: Request) => Promise<Response>`: what
 * `Deno.serve` takes in a Supabase Edge Function (supabase/functions/upload-lifecycle-process).
 * An Edge Function lives for one request, so one POST = one bounded run: claim and process jobs
 * until none is left or `maxJobs` were taken, then answer the report. Call it on a schedule
 * (pg_cron + pg_net, or an external cron); a long-running Node worker uses `runWorker` instead.
 */
import { bearerAccepted } from '../adapters/drain-handler.js';
import { toUploadLifecycleError } from '../errors.js';
import { runWorker, type Processor } from './processing.js';
import { supabaseProcessingPort, type ProcessingAdminClient } from './ports.js';

export interface ProcessingHandlerOptions {
  processors: readonly Processor[];
  /** When set, a request must carry `Authorization: Bearer <token>` (pass the service key). */
  token?: string;
  /** Jobs claimed per call at most. Default 20; the body may lower it. */
  maxJobs?: number;
  /** Jobs run at once. Default 2. */
  concurrency?: number;
  /** Seconds a claim is leased. Default 120 (an Edge Function's wall-clock limit is 150 s). */
  leaseSeconds?: number;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * A handler that runs the worker once per POST and answers its report as JSON.
 *
 * @example
 * ```ts
 * import { createClient } from 'npm:@supabase/supabase-js@2';
 * import { createProcessingHandler, sha256Processor, typeProcessor } from 'npm:upload-lifecycle@0/worker';
 * const serviceKey = Deno.env.get('SUPABASE_SERVICE_ROLE_KEY')!;
 * const admin = createClient(Deno.env.get('SUPABASE_URL')!, serviceKey, { auth: { persistSession: false } });
 * Deno.serve(createProcessingHandler(admin, { token: serviceKey, processors: [sha256Processor, typeProcessor] }));
 * ```
 */
export function createProcessingHandler(
  client: ProcessingAdminClient,
  options: ProcessingHandlerOptions,
): (request: Request) => Promise<Response> {
  const port = supabaseProcessingPort(client);
  return async (request) => {
    if (request.method !== 'POST') return json(405, { message: 'POST to run the worker' });
    if (!bearerAccepted(request, options.token))
      return json(401, { message: 'a bearer token this function accepts is required' });
    let body: { maxJobs?: unknown } = {};
    try {
      const text = await request.text();
      if (text) body = JSON.parse(text) as typeof body;
    } catch {
      return json(400, { message: 'the body must be JSON: { "maxJobs"?: number }' });
    }
    const limit = options.maxJobs ?? 20;
    const maxJobs =
      typeof body.maxJobs === 'number' && Number.isInteger(body.maxJobs) && body.maxJobs > 0
        ? Math.min(body.maxJobs, limit)
        : limit;
    const problems: unknown[] = [];
    try {
      const worker = runWorker({
        port,
        processors: options.processors,
        concurrency: options.concurrency ?? 2,
        leaseSeconds: options.leaseSeconds ?? 120,
        untilIdle: true,
        maxJobs,
        onError: (error) => problems.push(error),
      });
      const report = await worker.done;
      // A claim that failed ends the run as if idle: say so instead of answering "nothing to do".
      if (problems.length > 0 && report.claimed === 0)
        return json(500, { error: toUploadLifecycleError(problems[0]).toJSON() });
      return json(200, report);
    } catch (error) {
      if (error instanceof RangeError) return json(400, { message: error.message });
      return json(500, { error: toUploadLifecycleError(error).toJSON() });
    }
  };
}

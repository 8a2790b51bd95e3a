/**
 * `runWorker` as the package exports it: the transport-free worker of `./processing.ts`, given
 * either a {@link ProcessingPort} (`port`) or a supabase-js client created with the service key
 * (`supabase`), the issue's `runWorker({ supabase, processors, concurrency })`.
 */
import { runWorker as startWorker, type Worker, type WorkerOptions } from './processing.js';
import { supabaseProcessingPort, type ProcessingAdminClient } from './ports.js';

export type RunWorkerOptions =
  | WorkerOptions
  | (Omit<WorkerOptions, 'port'> & {
      /** A supabase-js client with the service_role key: jobs through its RPCs, bytes through its Storage. */
      supabase: ProcessingAdminClient;
      port?: never;
    });

/**
 * Starts a processing worker: it claims jobs for the given processors, at most `concurrency` at a
 * time, heartbeats their leases, and stops on `stop()`, the signal, or (with `untilIdle`) when
 * nothing is left.
 *
 * @example
 * ```ts
 * const admin = createClient(url, serviceRoleKey, { auth: { persistSession: false } });
 * const worker = runWorker({ supabase: admin, processors: [sha256Processor, typeProcessor], concurrency: 4 });
 * process.on('SIGTERM', () => void worker.stop());
 * ```
 */
export function runWorker(options: RunWorkerOptions): Worker {
  if ('supabase' in options && options.supabase) {
    const { supabase, ...rest } = options;
    return startWorker({ ...rest, port: supabaseProcessingPort(supabase) });
  }
  if (!options.port) throw new TypeError('runWorker needs a port or a supabase client');
  return startWorker(options as WorkerOptions);
}

/**
 * Processing workers (issue 15): run the jobs `finalize_upload` creates — one per file × processor
 * of the kind — and report each outcome to the database, which alone decides what it means for
 * the entity (the last required job complete → `completed`; a required job dead → `failed`).
 *
 * A worker is stateless: it claims jobs with a lease (`claim_upload_jobs`, `FOR UPDATE SKIP
 * LOCKED`), runs each with its processor, heartbeats the leases of the jobs it holds, and closes
 * each job with `complete_upload_job` or `fail_upload_job`. Any number of workers may run on any
 * number of machines. A job whose lease was lost (the worker stalled past it, the sweep gave it to
 * another) is aborted at the next heartbeat, and its late completion is refused by the database:
 * no job is completed twice.
 *
 * This module knows no transport: a {@link ProcessingPort} (Supabase: `./supabase-port.ts`;
 * PGlite or any SqlClient: `./sql-port.ts`) carries the RPCs and reads the objects.
 */
import { UploadLifecycleError } from '../errors.js';

/** A claimed job, with what a processor needs to know about its file. */
export interface ProcessingJob {
  id: string;
  processor: string;
  entityId: string;
  fileId: string;
  slot: string;
  bucketId: string;
  objectPath: string;
  /** Declared by the client at registration (and verified against the stored object by finalize). */
  size: number;
  mime: string;
  /** The hex SHA-256 the client declared, or null. */
  sha256: string | null;
  /** The slot's allowed MIME types (patterns like `image/*`), when the port knows them (the built-in ports do not: the database checked the declared type against them at registration). */
  allowedMimeTypes: string[] | null;
  /** This job's run number (1 for the first). */
  attempt: number;
}

/** A derived object a processor stored (a thumbnail, a text extract), recorded with the job. */
export interface ArtifactRecord {
  variant: string;
  bucketId: string;
  objectPath: string;
  size: number;
  contentType: string;
  sha256: string;
}

/** What a processor answers: a JSON result kept on the job, and the artifacts it stored. */
export interface ProcessorOutcome {
  result?: Record<string, unknown>;
  artifacts?: ArtifactRecord[];
}

export interface ProcessorContext {
  job: ProcessingJob;
  /** The stored object's bytes, streamed (read through Storage with the service key). */
  read(): Promise<ReadableStream<Uint8Array>>;
  /** Up to `bytes` bytes of the object's start (for magic numbers), without reading the rest. */
  head(bytes: number): Promise<Uint8Array>;
  /**
   * Stores a derived object next to the file (`{file path}.{variant}`) and answers its record,
   * to return in `artifacts`.
   */
  putArtifact(variant: string, bytes: Uint8Array, contentType: string): Promise<ArtifactRecord>;
  /** Aborted when the worker lost this job's lease or is stopping past its grace period. */
  signal: AbortSignal;
}

export interface Processor {
  readonly name: string;
  /** The slots this processor is meant for (documentation and `kindProcessors`); all when absent. */
  readonly slots?: readonly string[];
  /** Whether the entity waits for it (`completed` only once it is complete). Default true. */
  readonly required: boolean;
  /** Runs after a failure that is not a {@link ProcessingRejectedError}, up to this many times. */
  readonly maxAttempts?: number;
  /** A run longer than this is aborted and failed (retryable) with a `TimeoutError`. */
  readonly timeoutMs?: number;
  run(context: ProcessorContext): Promise<ProcessorOutcome | void>;
}

/**
 * A processor's verdict that the file is unacceptable (a hash mismatch, a forbidden type): the job
 * is dead at once, not retried, and — when the job is required — the entity fails with this
 * message. Any other error a processor throws is taken as a crash and retried with backoff.
 */
export class ProcessingRejectedError extends UploadLifecycleError {
  override name = 'ProcessingRejectedError';
  constructor(message: string, detail?: string) {
    super({ message, detail });
  }
}

/**
 * Declares a processor. `name` is what a kind's processor configuration names (`kind_processors`),
 * `run` does the work.
 *
 * @example
 * ```ts
 * const wordCount = defineProcessor({
 *   name: 'word_count',
 *   slots: ['document'],
 *   required: false,
 *   async run({ read }) {
 *     const text = await new Response(await read()).text();
 *     return { result: { words: text.split(/\s+/).filter(Boolean).length } };
 *   },
 * });
 * ```
 */
export function defineProcessor(definition: {
  name: string;
  slots?: readonly string[];
  required?: boolean;
  maxAttempts?: number;
  timeoutMs?: number;
  run: Processor['run'];
}): Processor {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(definition.name)) {
    throw new RangeError(
      `processor name must be lowercase letters, digits and _ (at most 63), got ${definition.name}`,
    );
  }
  return { required: true, ...definition };
}

/** What a worker needs of its backend: the job RPCs and the objects. */
export interface ProcessingPort {
  claim(
    workerId: string,
    maxJobs: number,
    leaseSeconds: number,
    processors: string[],
  ): Promise<ProcessingJob[]>;
  /** Extends the leases this worker still holds; answers their ids. */
  extend(workerId: string, jobIds: string[], leaseSeconds: number): Promise<string[]>;
  complete(jobId: string, workerId: string, outcome: Required<ProcessorOutcome>): Promise<void>;
  fail(jobId: string, workerId: string, error: JobError, retryable: boolean): Promise<void>;
  openObject(bucketId: string, objectPath: string): Promise<ReadableStream<Uint8Array>>;
  putObject(bucketId: string, objectPath: string, bytes: Uint8Array, contentType: string): Promise<void>;
}

/** A job's failure as the database keeps it (`last_error`). */
export interface JobError {
  name: string;
  message: string;
  code?: string;
  detail?: string;
}

export interface WorkerOptions {
  port: ProcessingPort;
  processors: readonly Processor[];
  /** Jobs run at once. Default 2. */
  concurrency?: number;
  /** This worker's id in `jobs.worker_id`. Default a random UUID. */
  workerId?: string;
  /** Seconds a claim is leased; heartbeats extend it every third of it. Default 60. */
  leaseSeconds?: number;
  /** Milliseconds between claims when there was nothing to do. Default 1000. */
  pollIntervalMs?: number;
  /** Stop once no job is left to claim and none runs (a cron run, an Edge Function call). */
  untilIdle?: boolean;
  /** Stop claiming after this many jobs (with `untilIdle`, a budget per call). */
  maxJobs?: number;
  /** Stops the worker like `stop()`. */
  signal?: AbortSignal;
  /** Called with errors of the worker itself (a claim or heartbeat that failed); it keeps going. */
  onError?: (error: unknown) => void;
}

export interface WorkerReport {
  claimed: number;
  completed: number;
  /** Jobs reported failed (retryable or not). */
  failed: number;
  /** Jobs whose lease was lost before they could be closed (another worker may run them). */
  lost: number;
  /** One line per failed job or refused close, for logs. */
  errors: string[];
}

export interface Worker {
  readonly workerId: string;
  /** The report so far (live). */
  readonly report: Readonly<WorkerReport>;
  /** Resolves with the report when the worker has stopped (after `stop()`, the signal, or idle). */
  readonly done: Promise<WorkerReport>;
  /**
   * Stops claiming, waits up to `graceMs` (default: the lease) for running jobs to finish, then
   * aborts the rest (their leases run out and the sweep hands them to another worker).
   */
  stop(options?: { graceMs?: number }): Promise<WorkerReport>;
}

const DEFAULT_LEASE_SECONDS = 60;

/** Maps an error thrown by a processor to what `fail_upload_job` keeps. */
function jobError(error: unknown): JobError {
  if (error instanceof UploadLifecycleError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      ...(error.detail ? { detail: error.detail } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** Sleeps `ms`, or less when `wake` is called or `signal` aborts. */
function nap(ms: number, signal: AbortSignal): { promise: Promise<void>; wake: () => void } {
  let wake = () => {};
  const promise = new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    wake = done;
    signal.addEventListener('abort', done, { once: true });
  });
  return { promise, wake };
}

/**
 * Starts a processing worker. It claims jobs for the given processors, at most `concurrency` at a
 * time, until stopped (or, with `untilIdle`, until nothing is left).
 *
 * @example
 * ```ts
 * const worker = runWorker({
 *   port: supabaseProcessingPort(admin),
 *   processors: [sha256Processor, typeProcessor],
 *   concurrency: 4,
 * });
 * process.on('SIGTERM', () => void worker.stop());
 * ```
 */
export function runWorker(options: WorkerOptions): Worker {
  const { port } = options;
  const concurrency = options.concurrency ?? 2;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const workerId = options.workerId ?? crypto.randomUUID();
  const byName = new Map(options.processors.map((p) => [p.name, p]));
  if (byName.size !== options.processors.length) throw new RangeError('two processors share a name');
  const names = [...byName.keys()];
  const report: WorkerReport = { claimed: 0, completed: 0, failed: 0, lost: 0, errors: [] };
  /** Running jobs → the controller that aborts their processor. */
  const running = new Map<string, AbortController>();
  const stopping = new AbortController();
  let graceMs = leaseSeconds * 1000;
  /** Set when a job ends, so the loop claims again instead of sleeping. */
  let woken = false;
  let wakeLoop = () => {
    woken = true;
  };
  const onError = options.onError ?? (() => {});
  options.signal?.addEventListener('abort', () => void stop(), { once: true });

  async function runJob(job: ProcessingJob, controller: AbortController): Promise<void> {
    const processor = byName.get(job.processor);
    const context: ProcessorContext = {
      job,
      signal: controller.signal,
      read: () => port.openObject(job.bucketId, job.objectPath),
      head: (bytes) => readHead(port, job, bytes),
      putArtifact: async (variant, bytes, contentType) => {
        const objectPath = `${job.objectPath}.${variant}`;
        await port.putObject(job.bucketId, objectPath, bytes, contentType);
        return {
          variant,
          bucketId: job.bucketId,
          objectPath,
          size: bytes.length,
          contentType,
          sha256: await sha256Hex(bytes),
        };
      },
    };
    let outcome: ProcessorOutcome | void;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if (!processor) throw new Error(`this worker has no processor ${job.processor}`);
      const run = processor.run(context);
      outcome = await (processor.timeoutMs === undefined
        ? run
        : Promise.race([
            run,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                timedOut = true;
                const error = new Error(`${job.processor} ran longer than ${processor.timeoutMs} ms`);
                error.name = 'TimeoutError';
                controller.abort(error);
                reject(error);
              }, processor.timeoutMs);
            }),
          ]));
    } catch (error) {
      clearTimeout(timer);
      if (controller.signal.aborted && !timedOut && !(error instanceof ProcessingRejectedError)) {
        // Lost lease or a stop past its grace: the job is not ours to close any more.
        report.lost += 1;
        return;
      }
      const retryable = !(error instanceof ProcessingRejectedError);
      const failure = jobError(error);
      report.errors.push(`${job.processor} ${job.fileId}: ${failure.message}`);
      try {
        await port.fail(job.id, workerId, failure, retryable);
        report.failed += 1;
      } catch (refused) {
        report.lost += 1;
        report.errors.push(`fail_upload_job ${job.id} refused: ${jobError(refused).message}`);
      }
      return;
    }
    clearTimeout(timer);
    if (controller.signal.aborted) {
      report.lost += 1;
      return;
    }
    try {
      await port.complete(job.id, workerId, {
        result: outcome?.result ?? {},
        artifacts: outcome?.artifacts ?? [],
      });
      report.completed += 1;
    } catch (refused) {
      const failure = jobError(refused);
      report.errors.push(`complete_upload_job ${job.id} refused: ${failure.message}`);
      if (failure.code === 'UL004') {
        // The outcome itself was refused (an artifact not in Storage, a malformed result): the
        // processor's fault, so the job fails with that error and is retried or buried as designed.
        try {
          await port.fail(job.id, workerId, failure, true);
          report.failed += 1;
          return;
        } catch {
          // fall through: not ours any more
        }
      }
      // A lease that ran out between the last heartbeat and now: the database refuses the close,
      // and another worker runs (or ran) the job.
      report.lost += 1;
    }
  }

  async function heartbeat(): Promise<void> {
    const ids = [...running.keys()];
    if (ids.length === 0) return;
    try {
      const held = new Set(await port.extend(workerId, ids, leaseSeconds));
      for (const id of ids) if (!held.has(id)) running.get(id)?.abort(new Error('lease lost'));
    } catch (error) {
      onError(error);
    }
  }

  const heartbeats = setInterval(() => void heartbeat(), Math.max(1000, (leaseSeconds * 1000) / 3));
  const tasks = new Set<Promise<void>>();

  async function loop(): Promise<void> {
    let budget = options.maxJobs ?? Number.POSITIVE_INFINITY;
    while (!stopping.signal.aborted) {
      const room = Math.min(concurrency - running.size, budget);
      let claimed: ProcessingJob[] = [];
      if (room > 0) {
        try {
          claimed = await port.claim(workerId, room, leaseSeconds, names);
        } catch (error) {
          onError(error);
        }
      }
      budget -= claimed.length;
      report.claimed += claimed.length;
      for (const job of claimed) {
        const controller = new AbortController();
        running.set(job.id, controller);
        const task = runJob(job, controller).finally(() => {
          running.delete(job.id);
          tasks.delete(task);
          wakeLoop();
        });
        tasks.add(task);
      }
      const idle = claimed.length === 0 && running.size === 0;
      if (options.untilIdle && (idle || (budget <= 0 && running.size === 0))) break;
      if (budget <= 0 && running.size === 0) break;
      // Full: wait for a job to end. Else nothing to claim: poll again later (or when a job ends).
      if (woken) {
        woken = false;
        continue;
      }
      const sleep = nap(running.size >= concurrency ? 60_000 : pollIntervalMs, stopping.signal);
      wakeLoop = sleep.wake;
      await sleep.promise;
      woken = false;
      wakeLoop = () => {
        woken = true;
      };
    }
    // Stopping: let running jobs finish within the grace period, then abort them.
    if (tasks.size > 0) {
      const grace = nap(graceMs, new AbortController().signal);
      await Promise.race([Promise.allSettled([...tasks]), grace.promise]);
      grace.wake();
      for (const controller of running.values()) controller.abort(new Error('worker stopped'));
      await Promise.allSettled([...tasks]);
    }
    clearInterval(heartbeats);
  }

  const done = loop().then(() => ({ ...report, errors: [...report.errors] }));

  function stop(stopOptions: { graceMs?: number } = {}): Promise<WorkerReport> {
    if (stopOptions.graceMs !== undefined) graceMs = stopOptions.graceMs;
    stopping.abort();
    return done;
  }

  return { workerId, report, done, stop };
}

/** Reads up to `bytes` bytes of the object's start and cancels the rest of the stream. */
async function readHead(port: ProcessingPort, job: ProcessingJob, bytes: number): Promise<Uint8Array> {
  const reader = (await port.openObject(job.bucketId, job.objectPath)).getReader();
  const head = new Uint8Array(Math.min(bytes, job.size));
  let filled = 0;
  try {
    while (filled < head.length) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, head.length - filled);
      head.set(value.subarray(0, take), filled);
      filled += take;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return head.subarray(0, filled);
}

/** The hex SHA-256 of some bytes (WebCrypto: Node, Deno and browsers all have it). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

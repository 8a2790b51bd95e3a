/**
 * Where a processing worker's RPCs and objects go: Supabase (a supabase-js client made with the
 * service_role key: `rpc()` and Storage) or any SqlClient with an object store (the embedded PGlite
 * backend), both calling the same SQL functions as service_role.
 */
import { StorageWriteError, writeStorageObject } from '../db/storage-write.js';
import { withActor, namedCall, type SqlClient } from '../db/client.js';
import { toUploadLifecycleError } from '../errors.js';
import { networkError } from '../core/port.js';
import { storageError, storageFailure } from '../adapters/storage-errors.js';
import type {
  ArtifactRecord,
  JobError,
  ProcessingJob,
  ProcessingPort,
  ProcessorOutcome,
} from './processing.js';

/** A row of `claim_upload_jobs`. */
interface ClaimRow {
  job_id: string;
  processor: string;
  entity_id: string;
  file_id: string;
  slot: string;
  bucket_id: string;
  object_path: string;
  declared_size: number | string;
  declared_mime: string;
  declared_sha256: string | null;
  attempt: number;
}

function jobOf(row: ClaimRow): ProcessingJob {
  return {
    id: row.job_id,
    processor: row.processor,
    entityId: row.entity_id,
    fileId: row.file_id,
    slot: row.slot,
    bucketId: row.bucket_id,
    objectPath: row.object_path,
    size: Number(row.declared_size),
    mime: row.declared_mime,
    sha256: row.declared_sha256,
    // Not in the claim: the slot's types were checked at registration, and the type processor
    // requires the bytes to be the declared type, so they are of an allowed type.
    allowedMimeTypes: null,
    attempt: row.attempt,
  };
}

const artifactRow = (a: ArtifactRecord) => ({
  variant: a.variant,
  bucket_id: a.bucketId,
  object_path: a.objectPath,
  size: a.size,
  content_type: a.contentType,
  sha256: a.sha256,
});

/** The RPC half of a port over "call this function with named arguments". */
function rpcPort(call: (fn: string, args: Record<string, unknown>) => Promise<unknown>) {
  return {
    claim: async (workerId: string, maxJobs: number, leaseSeconds: number, processors: string[]) =>
      (
        ((await call('claim_upload_jobs', {
          worker_id: workerId,
          max_jobs: maxJobs,
          lease_seconds: leaseSeconds,
          processors,
        })) as ClaimRow[] | null) ?? []
      ).map(jobOf),
    extend: async (workerId: string, jobIds: string[], leaseSeconds: number) =>
      ((await call('extend_upload_job_leases', {
        worker_id: workerId,
        job_ids: jobIds,
        lease_seconds: leaseSeconds,
      })) as string[] | null) ?? [],
    complete: async (jobId: string, workerId: string, outcome: Required<ProcessorOutcome>) => {
      await call('complete_upload_job', {
        job_id: jobId,
        worker_id: workerId,
        result: outcome.result,
        artifacts: outcome.artifacts.map(artifactRow),
      });
    },
    fail: async (jobId: string, workerId: string, error: JobError, retryable: boolean) => {
      await call('fail_upload_job', { job_id: jobId, worker_id: workerId, error, retryable });
    },
  };
}

/**
 * What the Supabase worker needs of a supabase-js client created with the service_role key:
 * `rpc`, `storage.from(bucket).download(path)` and `.upload(path, bytes, options)`. A
 * `SupabaseClient` satisfies it.
 */
export interface ProcessingAdminClient {
  rpc(fn: string, args?: Record<string, unknown>): PromiseLike<{ data: unknown; error: unknown }>;
  storage: {
    from(bucketId: string): {
      download(path: string): PromiseLike<{ data: Blob | null; error: unknown }>;
      upload(
        path: string,
        body: Blob | Uint8Array,
        options?: { contentType?: string; upsert?: boolean },
      ): PromiseLike<{ data: unknown; error: unknown }>;
    };
  };
}

/** A storage-js error as the package's typed error. */
function storageProblem(error: unknown) {
  const e = error as { status?: number; statusCode?: string; message?: string };
  if (typeof e.status !== 'number') return networkError(error);
  return storageFailure(e.status, { statusCode: e.statusCode, message: e.message });
}

/**
 * The worker's port on Supabase: the job RPCs through PostgREST and the objects through Storage,
 * both with the service key.
 *
 * @example
 * ```ts
 * const admin = createClient(url, serviceRoleKey, { auth: { persistSession: false } });
 * const worker = runWorker({ port: supabaseProcessingPort(admin), processors: [sha256Processor] });
 * ```
 */
export function supabaseProcessingPort(client: ProcessingAdminClient): ProcessingPort {
  return {
    ...rpcPort(async (fn, args) => {
      const { data, error } = await client.rpc(fn, args);
      if (error) throw toUploadLifecycleError(error);
      return data;
    }),
    async openObject(bucketId, objectPath) {
      const { data, error } = await client.storage.from(bucketId).download(objectPath);
      if (error || !data) throw storageProblem(error);
      return data.stream();
    },
    async putObject(bucketId, objectPath, bytes, contentType) {
      const { error } = await client.storage
        .from(bucketId)
        .upload(objectPath, bytes, { contentType, upsert: false });
      if (error) throw storageProblem(error);
    },
  };
}

/** Where the embedded backend keeps bytes (`bucket/path` → bytes): its `objects`. */
export interface ProcessingObjectStore {
  get(key: string): Uint8Array | undefined;
  set(key: string, bytes: Uint8Array): unknown;
}

/**
 * The worker's port on a SqlClient (PGlite with the Supabase shim, or PostgreSQL) and the embedded
 * backend's object store: the RPCs as service_role, artifacts written the way Storage writes them.
 *
 * @example
 * ```ts
 * const backend = createPgliteBackend(db, { userId });
 * const worker = runWorker({ port: sqlProcessingPort(db, backend.objects), processors });
 * ```
 */
export function sqlProcessingPort(db: SqlClient, objects: ProcessingObjectStore): ProcessingPort {
  const asService = async <T>(text: string, values: unknown[]): Promise<T[]> => {
    try {
      const { rows } = await withActor(db, { role: 'service_role' }, (tx) => tx.query<T>(text, values));
      return rows;
    } catch (error) {
      throw toUploadLifecycleError(error);
    }
  };
  return {
    ...rpcPort(async (fn, args) => {
      if (fn === 'claim_upload_jobs')
        return asService<ClaimRow>(
          `select * from public.claim_upload_jobs(worker_id => $1, max_jobs => $2, lease_seconds => $3, processors => $4::text[])`,
          [args.worker_id, args.max_jobs, args.lease_seconds, args.processors],
        );
      if (fn === 'extend_upload_job_leases')
        return (
          await asService<{ result: string[] }>(
            `select public.extend_upload_job_leases(worker_id => $1, job_ids => $2::uuid[], lease_seconds => $3) as result`,
            [args.worker_id, args.job_ids, args.lease_seconds],
          )
        )[0]?.result;
      const { text, values } = namedCall(fn, args);
      return (await asService<{ result: unknown }>(text, values))[0]?.result;
    }),
    async openObject(bucketId, objectPath) {
      const bytes = objects.get(`${bucketId}/${objectPath}`);
      if (!bytes)
        throw storageError(404, { statusCode: '404', error: 'not_found', message: 'Object not found' });
      return new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
    },
    async putObject(bucketId, objectPath, bytes, contentType) {
      try {
        await writeStorageObject(db, {
          bucketId,
          name: objectPath,
          ownerId: null,
          size: bytes.length,
          mimetype: contentType,
          role: 'service_role',
        });
      } catch (error) {
        if (error instanceof StorageWriteError)
          throw storageError(error.status, {
            statusCode: String(error.status),
            code: error.code,
            message: error.message,
          });
        throw toUploadLifecycleError(error);
      }
      objects.set(`${bucketId}/${objectPath}`, bytes);
    },
  };
}

/**
 * Parses the RPC answers of docs/rpc.md (snake_case jsonb) into the port's camelCase types.
 * Both backends read the same JSON, so both go through these schemas; a drift between the SQL and
 * the client shows up as a parse error naming the field, not as `undefined` in a progress bar.
 */
import * as z from 'zod/mini';
import { UPLOAD_STATUSES } from '../core/status.js';
import type { RegisteredFile, UploadJob, UploadState } from '../core/port.js';
import { MalformedAnswerError } from '../errors.js';

// zod/mini: the same validation as classic zod at a fraction of the bundle (this module ships in
// the core entry point).
const count = z.coerce.number().check(z.nonnegative(), z.refine(Number.isInteger, 'expected an integer'));
const nullish = <T extends z.ZodMiniType>(schema: T) => z.optional(z.nullable(schema));

export const fileRequirementSchema = z.pipe(
  z.object({
    slot: z.string(),
    min_count: count,
    max_count: count,
    max_bytes: z.coerce.number().check(z.positive()),
    allowed_mime_types: z.array(z.string()),
  }),
  z.transform((r) => ({
    slot: r.slot,
    minCount: r.min_count,
    maxCount: r.max_count,
    maxBytes: r.max_bytes,
    allowedMimeTypes: r.allowed_mime_types,
  })),
);

export const uploadStateFileSchema = z.pipe(
  z.object({
    file_id: z.string(),
    file_key: z.optional(z.string()),
    slot: z.string(),
    original_name: z.string(),
    declared_size: z.coerce.number(),
    declared_mime: z.string(),
    sha256: nullish(z.string()),
    bucket_id: z.string(),
    object_path: z.string(),
    verified_at: nullish(z.string()),
    object_exists: z.optional(z.boolean()),
    object_matches: z.optional(z.boolean()),
  }),
  z.transform((f) => ({
    fileId: f.file_id,
    key: f.file_key ?? f.file_id,
    slot: f.slot,
    originalName: f.original_name,
    declaredSize: f.declared_size,
    declaredMime: f.declared_mime,
    sha256: f.sha256 ?? null,
    bucketId: f.bucket_id,
    objectPath: f.object_path,
    verifiedAt: f.verified_at ?? null,
    objectExists: f.object_exists ?? false,
    objectMatches: f.object_matches ?? false,
  })),
);

export const uploadArtifactSchema = z.pipe(
  z.object({
    variant: z.string(),
    bucket_id: z.string(),
    object_path: z.string(),
    size: z.coerce.number(),
    content_type: z.string(),
    sha256: nullish(z.string()),
  }),
  z.transform((a) => ({
    variant: a.variant,
    bucketId: a.bucket_id,
    objectPath: a.object_path,
    size: a.size,
    contentType: a.content_type,
    sha256: a.sha256 ?? null,
  })),
);

// As src/machines/job.ts (the adapters do not import machines).
const JOB_STATUSES = ['pending', 'running', 'complete', 'failed', 'dead', 'cancelled'] as const;

export const uploadJobSchema = z.pipe(
  z.object({
    job_id: z.string(),
    file_id: z.string(),
    processor: z.string(),
    required: z.boolean(),
    status: z.enum(JOB_STATUSES),
    attempt: count,
    max_attempts: count,
    last_error: z.optional(z.unknown()),
    artifacts: nullish(z.array(uploadArtifactSchema)),
  }),
  z.transform((j): UploadJob => ({
    jobId: j.job_id,
    fileId: j.file_id,
    processor: j.processor,
    required: j.required,
    status: j.status,
    attempt: j.attempt,
    maxAttempts: j.max_attempts,
    lastError: j.last_error ?? null,
    artifacts: j.artifacts ?? [],
  })),
);

export const uploadStateSchema = z.pipe(
  z.object({
    entity_id: z.string(),
    kind: z.string(),
    status: z.enum(UPLOAD_STATUSES),
    attempt: count,
    max_attempts: count,
    failure_reason: nullish(z.string()),
    metadata: nullish(z.record(z.string(), z.unknown())),
    created_at: z.optional(z.string()),
    updated_at: z.optional(z.string()),
    completed_at: nullish(z.string()),
    requirements: nullish(z.array(fileRequirementSchema)),
    files: nullish(z.array(uploadStateFileSchema)),
    jobs: nullish(z.array(uploadJobSchema)),
  }),
  z.transform((s): UploadState => ({
    entityId: s.entity_id,
    kind: s.kind,
    status: s.status,
    attempt: s.attempt,
    maxAttempts: s.max_attempts,
    failureReason: s.failure_reason ?? null,
    metadata: s.metadata ?? {},
    createdAt: s.created_at ?? '',
    updatedAt: s.updated_at ?? '',
    completedAt: s.completed_at ?? null,
    requirements: s.requirements ?? [],
    files: s.files ?? [],
    jobs: s.jobs ?? [],
  })),
);

export const registeredFileSchema = z.pipe(
  z.object({
    file_id: z.string(),
    bucket_id: z.string(),
    object_path: z.string(),
    file_key: z.optional(z.string()),
  }),
  z.transform((r): RegisteredFile => ({
    fileId: r.file_id,
    key: r.file_key ?? r.file_id,
    bucketId: r.bucket_id,
    objectPath: r.object_path,
  })),
);

/**
 * Parses with `schema`; anything malformed (bad JSON text, a drifted field) becomes a
 * {@link MalformedAnswerError} naming the answer and the field, so the Backend port keeps its
 * promise of typed errors only.
 */
export function parseAnswer<T>(schema: { parse(value: unknown): T }, value: unknown, what: string): T {
  try {
    const v = typeof value === 'string' ? JSON.parse(value) : value;
    return schema.parse(Array.isArray(v) ? v[0] : v);
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const where = issues?.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new MalformedAnswerError({
      message: `malformed ${what} answer: ${where ?? (error instanceof Error ? error.message : String(error))}`,
      hint: 'The client and the database disagree: apply the migrations of this package version.',
      cause: error,
    });
  }
}

/** Parses an `UploadState` answer; a string (json as text) is parsed first. */
export function parseUploadState(value: unknown): UploadState {
  return parseAnswer(uploadStateSchema, value, 'UploadState');
}

/** Parses a `register_upload_file` answer (an object, or a one-row set). */
export function parseRegisteredFile(value: unknown): RegisteredFile {
  return parseAnswer(registeredFileSchema, value, 'RegisteredFile');
}

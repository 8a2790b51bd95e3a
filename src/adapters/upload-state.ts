/**
 * Parses the RPC answers of docs/rpc.md (snake_case jsonb) into the port's camelCase types.
 * Both backends read the same JSON, so both go through these schemas; a drift between the SQL and
 * the client shows up as a parse error naming the field, not as `undefined` in a progress bar.
 */
import { z } from 'zod';
import { UPLOAD_STATUSES } from '../machines/lifecycle.js';
import type { RegisteredFile, UploadState } from './backend.js';

const count = z.coerce.number().int().nonnegative();

export const fileRequirementSchema = z
  .object({
    slot: z.string(),
    min_count: count,
    max_count: count,
    max_bytes: z.coerce.number().positive(),
    allowed_mime_types: z.array(z.string()),
  })
  .transform((r) => ({
    slot: r.slot,
    minCount: r.min_count,
    maxCount: r.max_count,
    maxBytes: r.max_bytes,
    allowedMimeTypes: r.allowed_mime_types,
  }));

export const uploadStateFileSchema = z
  .object({
    file_id: z.string(),
    slot: z.string(),
    original_name: z.string(),
    declared_size: z.coerce.number(),
    declared_mime: z.string(),
    sha256: z.string().nullable().optional(),
    bucket_id: z.string(),
    object_path: z.string(),
    verified_at: z.string().nullable().optional(),
    object_exists: z.boolean().optional(),
    object_matches: z.boolean().optional(),
  })
  .transform((f) => ({
    fileId: f.file_id,
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
  }));

export const uploadStateSchema = z
  .object({
    entity_id: z.string(),
    kind: z.string(),
    status: z.enum(UPLOAD_STATUSES),
    attempt: count,
    max_attempts: count,
    failure_reason: z.string().nullable().optional(),
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
    created_at: z.string().optional(),
    updated_at: z.string().optional(),
    completed_at: z.string().nullable().optional(),
    requirements: z.array(fileRequirementSchema).nullable().optional(),
    files: z.array(uploadStateFileSchema).nullable().optional(),
  })
  .transform((s): UploadState => ({
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
  }));

export const registeredFileSchema = z
  .object({ file_id: z.string(), bucket_id: z.string(), object_path: z.string() })
  .transform((r): RegisteredFile => ({
    fileId: r.file_id,
    bucketId: r.bucket_id,
    objectPath: r.object_path,
  }));

/** Parses an `UploadState` answer; a string (json as text) is parsed first. */
export function parseUploadState(value: unknown): UploadState {
  return uploadStateSchema.parse(typeof value === 'string' ? JSON.parse(value) : value);
}

/** Parses a `register_upload_file` answer (an object, or a one-row set). */
export function parseRegisteredFile(value: unknown): RegisteredFile {
  const v = typeof value === 'string' ? JSON.parse(value) : value;
  return registeredFileSchema.parse(Array.isArray(v) ? v[0] : v);
}

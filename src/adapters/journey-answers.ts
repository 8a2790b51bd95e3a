/**
 * Parses the answers of the journey RPCs (list_uploads, create_upload_share, get_shared_upload)
 * into the port's camelCase types. Kept apart from upload-state.ts, which ships in the core entry:
 * only the adapters need these.
 */
import * as z from 'zod/mini';
import type { SharedUpload, UploadPage, UploadShare } from '../core/port.js';
import { parseAnswer, uploadStateSchema } from './upload-state.js';

const uploadPageSchema = z.pipe(
  z.object({ uploads: z.array(uploadStateSchema), next: z.nullable(z.string()) }),
  z.transform((p): UploadPage => ({ uploads: p.uploads, next: p.next })),
);

const uploadShareSchema = z.pipe(
  z.object({
    share_id: z.string(),
    entity_id: z.string(),
    token: z.string(),
    expires_at: z.optional(z.nullable(z.string())),
  }),
  z.transform((s): UploadShare => ({
    shareId: s.share_id,
    entityId: s.entity_id,
    token: s.token,
    expiresAt: s.expires_at ?? null,
  })),
);

const sharedUploadSchema = z.pipe(
  z.object({
    entity_id: z.string(),
    kind: z.string(),
    metadata: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
    completed_at: z.string(),
    expires_at: z.optional(z.nullable(z.string())),
    files: z.array(
      z.object({
        file_id: z.string(),
        slot: z.string(),
        original_name: z.string(),
        size: z.coerce.number(),
        mime: z.string(),
        sha256: z.optional(z.nullable(z.string())),
        bucket_id: z.string(),
        object_path: z.string(),
      }),
    ),
  }),
  z.transform((s): SharedUpload => ({
    entityId: s.entity_id,
    kind: s.kind,
    metadata: s.metadata ?? {},
    completedAt: s.completed_at,
    expiresAt: s.expires_at ?? null,
    files: s.files.map((f) => ({
      fileId: f.file_id,
      slot: f.slot,
      originalName: f.original_name,
      size: f.size,
      mime: f.mime,
      sha256: f.sha256 ?? null,
      bucketId: f.bucket_id,
      objectPath: f.object_path,
    })),
  })),
);

/** Parses a `list_uploads` answer. */
export function parseUploadPage(value: unknown): UploadPage {
  return parseAnswer(uploadPageSchema, value, 'UploadPage');
}

/** Parses a `create_upload_share` answer. */
export function parseUploadShare(value: unknown): UploadShare {
  return parseAnswer(uploadShareSchema, value, 'UploadShare');
}

/** Parses a `get_shared_upload` answer. */
export function parseSharedUpload(value: unknown): SharedUpload {
  return parseAnswer(sharedUploadSchema, value, 'SharedUpload');
}

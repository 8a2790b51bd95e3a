/**
 * The database statuses of an upload, in the order of the Postgres enum
 * `upload_lifecycle.upload_status`. The lifecycle machine (`src/machines/lifecycle.ts`) is built
 * over these; they live in the core so the Backend port can name them without importing a machine.
 */
export const UPLOAD_STATUSES = ['draft', 'uploading', 'processing', 'completed', 'failed'] as const;
/**
 * A database status of an entity: `draft`, `uploading`, `processing` (finalized, waiting for its
 * required processing jobs), `completed` or `failed`.
 */
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/**
 * The Backend port (core layer: imports only errors and statuses): everything the upload machine
 * needs from the outside world — the RPCs of
 * docs/rpc.md and a byte transfer into Storage. Backends are plain objects `satisfies Backend`
 * (`createSupabaseBackend`, `createPgliteBackend`, or a fake in tests).
 *
 * Every method rejects with an {@link UploadLifecycleError}: the database's SQLSTATE errors keep
 * their class (`UL001`…`UL006`), transfer failures are {@link StorageTransferError}s that say
 * whether a retry can help.
 *
 * @example
 * ```ts
 * const backend = createPgliteBackend(db, { userId }) satisfies Backend;
 * const draft = await backend.createDraft({ kind: 'report', metadata: { title: 'Q3' } });
 * ```
 */
import { UploadLifecycleError, type UploadErrorInit } from '../errors.js';
import type { UploadStatus } from './status.js';
import type { UploadWatcher } from './watch.js';

/** What a kind requires of one slot (`upload_lifecycle.file_requirements`). */
export interface FileRequirement {
  slot: string;
  minCount: number;
  maxCount: number;
  maxBytes: number;
  allowedMimeTypes: string[];
}

/** A registered file as `get_upload_state` reports it, with its presence in Storage. */
export interface UploadStateFile {
  fileId: string;
  /** The client's key for the file (`file_key`): stable across reloads, unique in its entity. */
  key: string;
  slot: string;
  originalName: string;
  declaredSize: number;
  declaredMime: string;
  sha256: string | null;
  bucketId: string;
  objectPath: string;
  verifiedAt: string | null;
  /** A `storage.objects` row exists at the path. */
  objectExists: boolean;
  /** …and its owner, size and type match the registration. */
  objectMatches: boolean;
}

/** A processing job's status (the job machine, src/machines/job.ts). */
export type UploadJobStatus = 'pending' | 'running' | 'complete' | 'failed' | 'dead' | 'cancelled';

/** An object a processor derived from a file (a thumbnail, a text extract). */
export interface UploadArtifact {
  variant: string;
  bucketId: string;
  objectPath: string;
  size: number;
  contentType: string;
  sha256: string | null;
}

/** A processing job of the current attempt, as `get_upload_state` reports it (docs/jobs.md). */
export interface UploadJob {
  jobId: string;
  fileId: string;
  processor: string;
  /** The entity completes only once every required job is `complete`. */
  required: boolean;
  status: UploadJobStatus;
  attempt: number;
  maxAttempts: number;
  /** The last failure the worker stored (its JSON), or null. */
  lastError: unknown;
  artifacts: UploadArtifact[];
}

/** The `UploadState` answer of every RPC (docs/rpc.md), in camelCase. */
export interface UploadState {
  entityId: string;
  kind: string;
  status: UploadStatus;
  attempt: number;
  maxAttempts: number;
  failureReason: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  requirements: FileRequirement[];
  files: UploadStateFile[];
  /** The processing jobs of the current attempt (empty for kinds without processors). */
  jobs: UploadJob[];
}

/** The arguments of `register_upload_file` (one element of a batch). */
export interface FileRegistration {
  /** The client's key: the same key registers once, however often the call is repeated. */
  key?: string;
  slot: string;
  filename: string;
  size: number;
  mime: string;
  sha256?: string | null;
}

/** The answer of `register_upload_file`: where the bytes go. */
export interface RegisteredFile {
  fileId: string;
  key: string;
  bucketId: string;
  objectPath: string;
}

/** Bytes to upload. `Blob` (and `File`) in browsers, `Uint8Array`/`Buffer` anywhere. */
export type ByteSource = Blob | Uint8Array;

/** One object transfer into Storage. */
export interface ObjectTransfer {
  bucketId: string;
  objectPath: string;
  body: ByteSource;
  contentType: string;
  size: number;
  /** Aborts the transfer; the backend rejects with an `AbortError`-named error. */
  signal: AbortSignal;
  /** Bytes acknowledged so far (monotonic within one call; may restart lower after a resume). */
  onProgress?: (bytesSent: number, bytesTotal: number) => void;
  /**
   * Replace an object already at the path (`x-upsert: true`): set when the database reported the
   * stored object does not match the registration (wrong size or type), never for a first upload.
   */
  upsert?: boolean;
}

/** What `Backend.createDraft` sends: the kind, its metadata, the idempotency key and, optionally, files to register at once. */
export interface CreateDraftInput {
  kind: string;
  metadata?: Record<string, unknown>;
  /**
   * Makes a repeated create (after a lost answer) return the same entity. Bound to the kind and
   * metadata it first came with: reused with others it is refused (UL004).
   */
  idempotencyKey?: string | null;
  /** Begin the upload and register these files in the same call (metadata to first byte: one RPC). */
  startUpload?: boolean;
  files?: readonly FileRegistration[];
}

/** The port. Each method is one RPC of docs/rpc.md, plus {@link Backend.uploadObject}. */
export interface Backend {
  readonly name: string;
  createDraft(input: CreateDraftInput): Promise<UploadState>;
  beginUpload(entityId: string): Promise<UploadState>;
  /** `start_upload`: begin (draft → uploading) and register `files` in one call; a replay is harmless. */
  startUpload(entityId: string, files: readonly FileRegistration[]): Promise<UploadState>;
  registerFile(entityId: string, file: FileRegistration): Promise<RegisteredFile>;
  /** `register_upload_files`: a batch, all or nothing, idempotent by each file's key. */
  registerFiles(entityId: string, files: readonly FileRegistration[]): Promise<UploadState>;
  removeFile(entityId: string, fileId: string): Promise<UploadState>;
  uploadObject(transfer: ObjectTransfer): Promise<void>;
  /**
   * The hex SHA-256 of a file's bytes, streamed (one chunk in memory at a time). Optional: the
   * machine's `sha256` option uses it to declare each file's hash at registration, which a `sha256`
   * processor then checks against the stored bytes.
   */
  sha256Of?(body: ByteSource, signal?: AbortSignal): Promise<string>;
  finalizeUpload(entityId: string): Promise<UploadState>;
  failUpload(entityId: string, reason?: string): Promise<UploadState>;
  retryUpload(entityId: string): Promise<UploadState>;
  getUploadState(entityId: string): Promise<UploadState>;
  /**
   * Watches a `processing` entity until the database settles it (src/core/watch.ts). Optional:
   * the upload machine polls `getUploadState` with backoff without it; pass a push-based one
   * (Supabase Realtime) to save the polls.
   */
  watchUpload?: UploadWatcher;
  /**
   * `delete_upload`: discards an own draft, uploading or failed entity; its files' objects are
   * queued for deletion by the database. A completed one is refused (UL005), a missing or foreign
   * one is not found (UL003).
   */
  deleteUpload(entityId: string): Promise<void>;
  /** `list_uploads`: the caller's uploads, newest first, one keyset page at a time. */
  listUploads(query?: ListUploadsQuery): Promise<UploadPage>;
}

/** What {@link Backend.listUploads} filters by. */
export interface ListUploadsQuery {
  kind?: string;
  status?: UploadStatus;
  /** The `next` of the previous page (opaque); omitted or null for the first page. */
  after?: string | null;
  /** Uploads per page, 1–100. Default 20. */
  limit?: number;
}

/** One page of {@link Backend.listUploads}: `next` is the cursor of the following page, null on the last. */
export interface UploadPage {
  uploads: UploadState[];
  next: string | null;
}

/** The answer of `create_upload_share`: `token` is shown once (the database keeps only its hash). */
export interface UploadShare {
  shareId: string;
  entityId: string;
  token: string;
  expiresAt: string | null;
}

/** A file of a shared upload, as `get_shared_upload` lists it (paths to sign). */
export interface SharedUploadFile {
  fileId: string;
  slot: string;
  originalName: string;
  size: number;
  mime: string;
  sha256: string | null;
  bucketId: string;
  objectPath: string;
}

/** A completed upload read through a share token. */
export interface SharedUpload {
  entityId: string;
  kind: string;
  metadata: Record<string, unknown>;
  completedAt: string;
  expiresAt: string | null;
  files: SharedUploadFile[];
}

/** A file to download: a URL valid until `expiresAt` (signed on Supabase, an object URL on PGlite). */
export interface FileDownload {
  fileId: string;
  slot: string;
  originalName: string;
  size: number;
  mime: string;
  url: string;
  /** When a signed URL stops working; null for an object URL (valid until revoked). */
  expiresAt: string | null;
  /** The bytes themselves, where the backend holds them (PGlite). */
  bytes?: Uint8Array;
}

/** Options of {@link JourneyBackend.getDownloadUrls}. */
export interface DownloadOptions {
  /** Seconds a signed URL stays valid. Default 3600. */
  expiresIn?: number;
}

/**
 * What a user does with uploads beyond uploading them: download a completed one, share it and
 * revoke the share. Both backends implement it; the upload machine does not need it, so fakes of
 * {@link Backend} do not have to.
 */
export interface JourneyBackend extends Backend {
  /** Download URLs of an own completed upload's files; UL005 if it is not completed, UL003 if not the caller's. */
  getDownloadUrls(entityId: string, options?: DownloadOptions): Promise<FileDownload[]>;
  /** `create_upload_share`: a share token for an own completed upload (UL005 otherwise). */
  createShare(entityId: string, options?: { expiresAt?: string | Date | null }): Promise<UploadShare>;
  /** `revoke_upload_share`: the token stops working at once (UL003 for a share not the caller's). */
  revokeShare(shareId: string): Promise<void>;
  /** `get_shared_upload`: the entity a token shares (UL003 when wrong, revoked or expired). */
  getSharedUpload(token: string): Promise<SharedUpload>;
}

/** Storage's stable error codes (the `code`/`error` of its JSON answers). */
export type StorageErrorCode =
  | 'AccessDenied'
  | 'InvalidJWT'
  | 'OffsetConflict'
  | 'NoSuchBucket'
  | 'NoSuchUpload'
  | 'Duplicate'
  | 'EntityTooLarge'
  | 'InvalidMimeType'
  | 'InvalidRequest'
  | 'Aborted'
  | 'NetworkError'
  | 'InternalError';

/**
 * A transfer into Storage failed. `retryable` says whether the same request may succeed later
 * (network, 5xx, 423 lock, an expired token); `status` is the HTTP status (0 without an answer).
 */
export class StorageTransferError extends UploadLifecycleError {
  override name = 'StorageTransferError';
  readonly status: number;
  readonly storageCode: StorageErrorCode;
  readonly retryable: boolean;

  constructor(init: UploadErrorInit & { status: number; storageCode: StorageErrorCode; retryable: boolean }) {
    super(init);
    this.status = init.status;
    this.storageCode = init.storageCode;
    this.retryable = init.retryable;
  }

  override toJSON() {
    return {
      ...super.toJSON(),
      status: this.status,
      storageCode: this.storageCode,
      retryable: this.retryable,
    };
  }
}

/** True for a {@link StorageTransferError} (a failed byte transfer), whatever realm created it. */
export function isStorageTransferError(error: unknown): error is StorageTransferError {
  return error instanceof StorageTransferError;
}

/** The transfer was aborted by the caller (cancel, stop). Never retried. */
export function abortError(): StorageTransferError {
  return new StorageTransferError({
    message: 'upload aborted',
    status: 0,
    storageCode: 'Aborted',
    retryable: false,
  });
}

/** A request that got no answer (connection refused, reset, timeout): retryable. */
export function networkError(cause: unknown): StorageTransferError {
  return new StorageTransferError({
    message: `network error: ${cause instanceof Error ? cause.message : String(cause)}; the upload will resume`,
    status: 0,
    storageCode: 'NetworkError',
    retryable: true,
    cause,
  });
}

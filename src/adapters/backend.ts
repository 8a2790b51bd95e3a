/**
 * The Backend port: everything the upload machine needs from the outside world — the RPCs of
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
import type { UploadStatus } from '../machines/lifecycle.js';

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
}

/** The arguments of `register_upload_file`. */
export interface FileRegistration {
  slot: string;
  filename: string;
  size: number;
  mime: string;
  sha256?: string | null;
}

/** The answer of `register_upload_file`: where the bytes go. */
export interface RegisteredFile {
  fileId: string;
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

export interface CreateDraftInput {
  kind: string;
  metadata?: Record<string, unknown>;
  /** Makes a repeated create (after a lost answer) return the same entity. */
  idempotencyKey?: string | null;
}

/** The port. Each method is one RPC of docs/rpc.md, plus {@link Backend.uploadObject}. */
export interface Backend {
  readonly name: string;
  createDraft(input: CreateDraftInput): Promise<UploadState>;
  beginUpload(entityId: string): Promise<UploadState>;
  registerFile(entityId: string, file: FileRegistration): Promise<RegisteredFile>;
  removeFile(entityId: string, fileId: string): Promise<UploadState>;
  uploadObject(transfer: ObjectTransfer): Promise<void>;
  finalizeUpload(entityId: string): Promise<UploadState>;
  failUpload(entityId: string, reason?: string): Promise<UploadState>;
  retryUpload(entityId: string): Promise<UploadState>;
  getUploadState(entityId: string): Promise<UploadState>;
}

// Transfer errors live in their own module; re-exported here, where the port's users look.
export {
  StorageTransferError,
  abortError,
  isStorageTransferError,
  networkError,
  storageError,
  storageFailure,
  type StorageErrorCode,
} from './storage-errors.js';

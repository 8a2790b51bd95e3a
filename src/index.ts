/**
 * `upload-lifecycle`: the lifecycle machine (the formal spec), its types and helpers.
 */
export * from './machines/lifecycle.js';
export { activePaths, readableEvent, toMermaid, type MermaidOptions } from './machines/diagram.js';
export type { Actor, SqlClient, SqlTx, QueryResult } from './db/client.js';
export * from './errors.js';

// The upload machine (issue 5): orchestrator, per-file actors, selectors, the Backend port.
export {
  createUploadMachine,
  type CreateUploadMachineOptions,
  type UploadContext,
  type UploadEvent,
  type UploadInput,
  type UploadMachine,
  type UploadOptions,
  type UploadOutput,
  type UploadStateMeta,
} from './machines/upload.js';
export {
  USER_EVENT_POLICY,
  USER_EVENT_TYPES,
  type EventPolicy,
  type UserEvent,
  type UserEventType,
} from './machines/upload-events.js';
export { MissingSourceError, type TransferInput } from './machines/upload-actors.js';
export type { AddedFile, FileRemoval, FileUploadStatus, UploadFileEntry } from './machines/upload-files.js';
export {
  DEFAULT_RETRY,
  backoffDelay,
  classifyFailure,
  deserializeError,
  serializeError,
  type FailureClass,
  type RetryPolicy,
  type SerializedUploadError,
} from './machines/upload-retry.js';
export { checkFile, checkFiles, type FileFacts } from './machines/upload-validate.js';
export {
  UPLOAD_PHASES,
  persistUpload,
  selectDatabaseStatus,
  selectEntityId,
  selectError,
  selectFiles,
  selectFilesNeedingSource,
  selectIsBusy,
  selectPhase,
  selectProgress,
  type PersistedUpload,
  type UploadPhase,
  type UploadProgress,
  type UploadSnapshot,
} from './machines/upload-selectors.js';
export {
  StorageTransferError,
  abortError,
  isStorageTransferError,
  networkError,
  storageError,
  type Backend,
  type ByteSource,
  type CreateDraftInput,
  type FileRegistration,
  type FileRequirement,
  type ObjectTransfer,
  type RegisteredFile,
  type StorageErrorCode,
  type UploadState,
  type UploadStateFile,
} from './adapters/backend.js';
// Parsing RPC answers (zod) lives with the adapters that receive them (`upload-lifecycle/supabase`,
// `upload-lifecycle/pglite`): the machines take typed values, and the core ships no validator.

// Database types in the shape `supabase gen types typescript` produces (generated from the catalog).
export type { Database, Json, RpcArgs, RpcResults } from './generated/database.types.js';

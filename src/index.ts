/**
 * `upload-lifecycle`: the lifecycle (the formal spec), the client upload machine, its selectors,
 * typed errors and the Backend port. No validator and no adapter: `upload-lifecycle/supabase` and
 * `upload-lifecycle/pglite` bind the machine to a backend, `upload-lifecycle/react` to React.
 *
 * Every export here is documented where it is declared; what is not exported is internal and may
 * change in any release.
 */

// The lifecycle: the XState machine the database enforces, and the pure functions over it.
export {
  INITIAL_STATUS,
  LIFECYCLE_TRANSITIONS,
  TERMINAL_STATUSES,
  UPLOAD_STATUSES,
  initialLifecycle,
  isAllowedStatusChange,
  lifecycleAt,
  lifecycleMachine,
  statusOf,
  transitionLifecycle,
  type FailureReason,
  type LifecycleActor,
  type LifecycleContext,
  type LifecycleEvent,
  type LifecycleEventType,
  type LifecycleInput,
  type LifecycleSnapshot,
  type LifecycleState,
  type LifecycleStep,
  type LifecycleTransition,
  type UploadStatus,
} from './machines/lifecycle.js';
export { toMermaid, type MermaidOptions } from './machines/diagram.js';

// Typed errors: one class and one guard per SQLSTATE of the database contract.
export {
  AttemptsExhaustedError,
  EntityNotFoundError,
  ForbiddenTransitionError,
  InvalidFileError,
  NEXT_STEPS,
  NotAcceptingError,
  RequirementsNotMetError,
  UnknownKindError,
  UnknownUserError,
  UploadLifecycleError,
  hasUploadErrorCode,
  isAttemptsExhaustedError,
  isEntityNotFoundError,
  isForbiddenTransitionError,
  isInvalidFileError,
  isNotAcceptingError,
  isRequirementsNotMetError,
  isUnknownKindError,
  isUnknownUserError,
  isUploadLifecycleError,
  toUploadLifecycleError,
  type UploadErrorCode,
  type UploadErrorInit,
} from './errors.js';

// The client upload machine and what reads its snapshots.
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
export { MalformedAnswerError, MissingSourceError, ProcessingFailedError } from './errors.js';
export type { AddedFile, FileUploadStatus, UploadFileEntry } from './machines/upload-files.js';
export {
  UPLOAD_PHASES,
  persistUpload,
  selectDatabaseStatus,
  selectEntityId,
  selectError,
  selectFiles,
  selectFilesNeedingSource,
  selectIsBusy,
  selectJobs,
  selectPhase,
  selectProgress,
  type FileJob,
  type PersistedUpload,
  type UploadPhase,
  type UploadProgress,
  type UploadSnapshot,
} from './machines/upload-selectors.js';
export {
  DEFAULT_RETRY,
  classifyFailure,
  type FailureClass,
  type RetryPolicy,
} from './machines/upload-retry.js';
export { checkFile, checkFiles, type FileFacts } from './machines/upload-validate.js';

// The Backend port: what an adapter implements (createSupabaseBackend and createPgliteBackend do).
export {
  StorageTransferError,
  abortError,
  isStorageTransferError,
  networkError,
  type Backend,
  type ByteSource,
  type CreateDraftInput,
  type DownloadOptions,
  type FileDownload,
  type FileRegistration,
  type FileRequirement,
  type JourneyBackend,
  type ListUploadsQuery,
  type ObjectTransfer,
  type RegisteredFile,
  type SharedUpload,
  type SharedUploadFile,
  type StorageErrorCode,
  type UploadPage,
  type UploadShare,
  type UploadArtifact,
  type UploadJob,
  type UploadJobStatus,
  type UploadState,
  type UploadStateFile,
} from './core/port.js';
export {
  DEFAULT_WATCH_INTERVALS_MS,
  pollingWatcher,
  type UploadWatcher,
  type WatchOptions,
} from './core/watch.js';
export { deserializeError, type SerializedUploadError } from './core/error-data.js';

// Database types in the shape `supabase gen types typescript` produces (generated from the catalog).
export type { Database, Json, RpcArgs, RpcResults } from './generated/database.types.js';

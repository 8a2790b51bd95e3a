/**
 * `upload-lifecycle/react`: {@link useUploadLifecycle} and its selector hooks.
 *
 * @example
 * ```tsx
 * import { useUploadLifecycle } from 'upload-lifecycle/react';
 * const upload = useUploadLifecycle({ backend, kind: 'report', persistKey: 'report-upload' });
 * ```
 */
export {
  useUploadLifecycle,
  useUploadSelector,
  useUploadFile,
  useUploadFileKeys,
  type UseUploadLifecycleOptions,
  type UploadLifecycle,
  type UploadActions,
  type FilesInput,
} from './use-upload-lifecycle.js';
export {
  createUploadStore,
  defaultScheduler,
  type UploadStore,
  type UploadStoreOptions,
  type UploadSettlement,
  type FrameScheduler,
  type SnapshotStorage,
} from './upload-store.js';
export { fileView, typedError, type UploadFileView } from './views.js';
export {
  uploadKeys,
  uploadListQuery,
  uploadStateQuery,
  downloadUrlsQuery,
  type UploadListFilters,
} from './upload-queries.js';
export { useUploadShare, type UploadShareState } from './use-upload-share.js';
export {
  selectPhase,
  selectDatabaseStatus,
  selectProgress,
  selectFiles,
  selectEntityId,
  selectError,
  selectIsBusy,
  selectJobs,
  type FileJob,
  type UploadPhase,
  type UploadProgress,
  type UploadSnapshot,
} from '../machines/upload-selectors.js';

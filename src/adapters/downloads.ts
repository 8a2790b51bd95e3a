/**
 * Download URLs, the same rule for every backend: only a completed entity's files, only for
 * whoever may read it (the owner through `get_upload_state`, anyone holding a live share token
 * through `get_shared_upload`). Anything else is a typed error, never a URL to an incomplete set.
 */
import type { SharedUploadFile, UploadState } from '../core/port.js';
import { NotAcceptingError } from '../errors.js';

/** A file to sign, in the shape both answers share. */
export type DownloadTarget = Pick<
  SharedUploadFile,
  'fileId' | 'slot' | 'originalName' | 'size' | 'mime' | 'bucketId' | 'objectPath'
>;

/** The files of a completed upload, ready to sign; UL005 for any other status. */
export function downloadTargets(state: UploadState): DownloadTarget[] {
  if (state.status !== 'completed') {
    throw new NotAcceptingError({
      message: `upload ${state.entityId} is ${state.status}: only completed uploads can be downloaded`,
      hint: 'Finalize the upload first; its files are not verified until then.',
    });
  }
  return state.files.map((f) => ({
    fileId: f.fileId,
    slot: f.slot,
    originalName: f.originalName,
    size: f.declaredSize,
    mime: f.declaredMime,
    bucketId: f.bucketId,
    objectPath: f.objectPath,
  }));
}

/** Groups targets by bucket, keeping each target's index (one signing request per bucket). */
export function byBucket(targets: readonly DownloadTarget[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  targets.forEach((t, i) => groups.set(t.bucketId, [...(groups.get(t.bucketId) ?? []), i]));
  return groups;
}

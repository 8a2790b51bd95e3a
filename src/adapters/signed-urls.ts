/**
 * Signs download URLs through Supabase Storage (`createSignedUrls`, one request per bucket). The
 * client decides who may sign: the user's client signs only what the storage SELECT policy lets
 * them read (their own objects); the service client signs anything, so it is used only after
 * `get_shared_upload` has said the token shares those very paths.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import type { FileDownload } from '../core/port.js';
import { byBucket, type DownloadTarget } from './downloads.js';
import { networkError, storageError } from './storage-errors.js';

/** Signed URLs of `targets`, valid `expiresIn` seconds, in the targets' order. */
export async function signDownloads(
  client: Pick<SupabaseClient, 'storage'>,
  targets: readonly DownloadTarget[],
  expiresIn: number,
): Promise<FileDownload[]> {
  const urls: string[] = [];
  const expiresAt = new Date(Date.now() + expiresIn * 1000).toISOString();
  for (const [bucketId, indexes] of byBucket(targets)) {
    let answer;
    try {
      answer = await client.storage.from(bucketId).createSignedUrls(
        indexes.map((i) => targets[i]!.objectPath),
        expiresIn,
      );
    } catch (error) {
      throw networkError(error);
    }
    if (answer.error) {
      const e = answer.error as { status?: number; statusCode?: string; message: string };
      if (e.status === undefined) throw networkError(answer.error);
      throw storageError(e.status, { statusCode: e.statusCode, message: e.message });
    }
    answer.data.forEach((signed, n) => {
      const i = indexes[n]!;
      // A path the caller may not read comes back with its own error and no URL.
      if (signed.error || !signed.signedUrl) {
        throw storageError(404, {
          statusCode: '404',
          error: 'not_found',
          message: `file ${targets[i]!.fileId}: ${signed.error ?? 'not signed'}`,
        });
      }
      urls[i] = signed.signedUrl;
    });
  }
  return targets.map((t, i) => ({
    fileId: t.fileId,
    slot: t.slot,
    originalName: t.originalName,
    size: t.size,
    mime: t.mime,
    url: urls[i]!,
    expiresAt,
  }));
}

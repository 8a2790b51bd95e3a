/**
 * The RPC half of a Backend, written once over "call this function with these named arguments":
 * supabase-js `rpc()` and a SQL `select public.fn(name => $1, …)` are both such a caller.
 */
import type { FileRegistration, JourneyBackend } from '../core/port.js';
import { parseSharedUpload, parseUploadPage, parseUploadShare } from './journey-answers.js';
import { parseRegisteredFile, parseUploadState } from './upload-state.js';

/** Calls a public RPC by name with named arguments; rejects with a typed error. */
export type RpcCaller = (fn: string, args: Record<string, unknown>) => Promise<unknown>;

/** Every method of a backend that is one RPC: all but the byte transfers (upload and download). */
export type RpcMethods = Omit<JourneyBackend, 'name' | 'uploadObject' | 'getDownloadUrls'>;

/** A file as the batch RPCs take it (`{key, slot, filename, size, mime, sha256}`). */
function fileJson(file: FileRegistration) {
  return {
    ...(file.key !== undefined && { key: file.key }),
    slot: file.slot,
    filename: file.filename,
    size: file.size,
    mime: file.mime,
    sha256: file.sha256 ?? null,
  };
}

export function rpcMethods(call: RpcCaller): RpcMethods {
  const state = async (fn: string, args: Record<string, unknown>) => parseUploadState(await call(fn, args));
  return {
    createDraft: (input) =>
      state('create_upload_draft', {
        kind: input.kind,
        metadata: input.metadata ?? {},
        idempotency_key: input.idempotencyKey ?? null,
        ...(input.startUpload && { files: (input.files ?? []).map(fileJson), start_upload: true }),
      }),
    beginUpload: (entityId) => state('begin_upload', { entity_id: entityId }),
    startUpload: (entityId, files) =>
      state('start_upload', { entity_id: entityId, files: files.map(fileJson) }),
    registerFiles: (entityId, files) =>
      state('register_upload_files', { entity_id: entityId, files: files.map(fileJson) }),
    registerFile: async (entityId, file) =>
      parseRegisteredFile(
        await call('register_upload_file', {
          entity_id: entityId,
          slot: file.slot,
          filename: file.filename,
          size: file.size,
          mime: file.mime,
          sha256: file.sha256 ?? null,
          file_key: file.key ?? null,
        }),
      ),
    removeFile: (entityId, fileId) => state('remove_upload_file', { entity_id: entityId, file_id: fileId }),
    finalizeUpload: (entityId) => state('finalize_upload', { entity_id: entityId }),
    failUpload: (entityId, reason = 'client_error') => state('fail_upload', { entity_id: entityId, reason }),
    retryUpload: (entityId) => state('retry_upload', { entity_id: entityId }),
    getUploadState: (entityId) => state('get_upload_state', { entity_id: entityId }),
    deleteUpload: async (entityId) => {
      await call('delete_upload', { entity_id: entityId });
    },
    listUploads: async (query = {}) =>
      parseUploadPage(
        await call('list_uploads', {
          kind: query.kind ?? null,
          status: query.status ?? null,
          after: query.after ?? null,
          page_size: query.limit ?? 20,
        }),
      ),
    createShare: async (entityId, options = {}) => {
      const expiresAt =
        options.expiresAt instanceof Date ? options.expiresAt.toISOString() : options.expiresAt;
      return parseUploadShare(
        await call('create_upload_share', { entity_id: entityId, expires_at: expiresAt ?? null }),
      );
    },
    revokeShare: async (shareId) => {
      await call('revoke_upload_share', { share_id: shareId });
    },
    getSharedUpload: async (token) => parseSharedUpload(await call('get_shared_upload', { token })),
  };
}

/** Reads a byte source into one buffer (Blob → Uint8Array). */
export async function toBytes(body: Blob | Uint8Array): Promise<Uint8Array> {
  return body instanceof Uint8Array ? body : new Uint8Array(await body.arrayBuffer());
}

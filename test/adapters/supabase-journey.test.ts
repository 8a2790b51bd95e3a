/**
 * The journey beyond uploading through supabase-js against the local stack (PostgREST rpc +
 * Storage over the real migrations in PGlite): discard and list through `rpc()`, signed download
 * URLs through `createSignedUrls`, and the share handler reading a link with the service key.
 */
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createShareHandler,
  createSupabaseBackend,
  signDownloads,
  type SupabaseBackend,
} from '../../src/adapters/supabase.js';
import { isStorageTransferError, type UploadState } from '../../src/adapters/backend.js';
import { EntityNotFoundError, NotAcceptingError } from '../../src/errors.js';
import { type LocalSupabase } from '../../src/server/local-supabase.js';
import { createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { noRealtime } from '../support/local-client.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

let db: TestDb;
let local: LocalSupabase;
let userId: string;
let otherId: string;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack('journey-');
  ({ db, local } = stack);
});
afterAll(() => stack.close());
beforeEach(async () => {
  await resetDb(db);
  local.log.length = 0;
  userId = await createUser(db);
  otherId = await createUser(db);
  await defineKind(db);
});

const options = noRealtime;
const supabaseFor = (user: string) =>
  createClient(local.url, local.anonKey, { ...options, accessToken: async () => local.tokenFor(user) });
const backendFor = (user: string) =>
  createSupabaseBackend(supabaseFor(user), { resumableThreshold: Infinity });
const admin = () =>
  createClient(local.url, local.serviceKey, { ...options, auth: { persistSession: false } });

const pdf = new Uint8Array(1500).map((_, i) => i % 251);

async function uploaded(backend: SupabaseBackend): Promise<UploadState> {
  const state = await backend.createDraft({
    kind: 'report',
    metadata: { title: 'Q3' },
    startUpload: true,
    files: [
      { key: 'doc', slot: 'document', filename: 'report.pdf', size: pdf.length, mime: 'application/pdf' },
    ],
  });
  const file = state.files[0]!;
  await backend.uploadObject({
    bucketId: file.bucketId,
    objectPath: file.objectPath,
    body: pdf,
    contentType: 'application/pdf',
    size: pdf.length,
    signal: new AbortController().signal,
  });
  return state;
}
const completed = async (backend: SupabaseBackend) =>
  backend.finalizeUpload((await uploaded(backend)).entityId);
const download = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());

describe('Supabase backend: the journey', { timeout: 60_000 }, () => {
  it('discards a failed upload through POST /rest/v1/rpc/delete_upload; a completed one is refused (UL005)', async () => {
    const backend = backendFor(userId);
    const failed = await uploaded(backend);
    await backend.failUpload(failed.entityId);
    await backend.deleteUpload(failed.entityId);
    expect(local.log.some((r) => r.method === 'POST' && r.path === '/rest/v1/rpc/delete_upload')).toBe(true);
    await expect(backend.getUploadState(failed.entityId)).rejects.toBeInstanceOf(EntityNotFoundError);
    const done = await completed(backend);
    await expect(backend.deleteUpload(done.entityId)).rejects.toBeInstanceOf(NotAcceptingError);
  });

  it('lists the caller’s uploads by status, as UploadStates', async () => {
    const backend = backendFor(userId);
    const draft = await backend.createDraft({ kind: 'report', metadata: {} });
    await backendFor(otherId).createDraft({ kind: 'report', metadata: {} });
    const page = await backend.listUploads({ status: 'draft' });
    expect(page).toEqual({ uploads: [await backend.getUploadState(draft.entityId)], next: null });
  });

  it('signs download URLs of an own completed upload (createSignedUrls, with expiry) that serve its bytes', async () => {
    const backend = backendFor(userId);
    const done = await completed(backend);
    const before = Date.now();
    const [file, ...rest] = await backend.getDownloadUrls(done.entityId, { expiresIn: 60 });
    expect(rest).toEqual([]);
    expect(file).toMatchObject({ slot: 'document', originalName: 'report.pdf', size: pdf.length });
    expect(file!.url.startsWith(`${local.url}/storage/v1/object/sign/report-files/`)).toBe(true);
    const expires = Date.parse(file!.expiresAt!);
    expect(expires).toBeGreaterThanOrEqual(before + 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 60_000);
    const sign = local.log.find((r) => r.path === '/storage/v1/object/sign/report-files');
    expect(sign?.method).toBe('POST');
    expect(await download(file!.url)).toEqual(pdf);
  });

  it('refuses downloads of an upload that is not completed (UL005) or not the caller’s (UL003)', async () => {
    const backend = backendFor(userId);
    const state = await uploaded(backend);
    await expect(backend.getDownloadUrls(state.entityId)).rejects.toBeInstanceOf(NotAcceptingError);
    await backend.finalizeUpload(state.entityId);
    await expect(backendFor(otherId).getDownloadUrls(state.entityId)).rejects.toBeInstanceOf(
      EntityNotFoundError,
    );
    // Storage itself refuses to sign another user's object for them: RLS decides, not the client.
    const file = state.files[0]!;
    const error = await signDownloads(
      supabaseFor(otherId),
      [{ ...file, size: file.declaredSize, mime: file.declaredMime }],
      60,
    ).catch((e: unknown) => e);
    expect(isStorageTransferError(error)).toBe(true);
  });
});

describe('createShareHandler (service key)', { timeout: 60_000 }, () => {
  it('answers a shared upload and signed URLs of its files to a caller without an account, until revoked', async () => {
    const backend = backendFor(userId);
    const done = await completed(backend);
    const share = await backend.createShare(done.entityId);
    const handler = createShareHandler(admin(), { expiresIn: 120 });

    const answer = await handler(new Request(`https://share.example/?token=${share.token}`));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await answer.json()) as { upload: { entityId: string }; files: { url: string }[] };
    expect(body.upload.entityId).toBe(done.entityId);
    expect(await download(body.files[0]!.url)).toEqual(pdf);

    await backend.revokeShare(share.shareId);
    const revoked = await handler(
      new Request('https://share.example/', { method: 'POST', body: JSON.stringify({ token: share.token }) }),
    );
    expect(revoked.status).toBe(404);
    expect(((await revoked.json()) as { error: { code: string } }).error.code).toBe('UL003');
  });

  it('answers 400 without a token and 404 for a token that shares nothing', async () => {
    const handler = createShareHandler(admin());
    expect((await handler(new Request('https://share.example/'))).status).toBe(400);
    expect((await handler(new Request('https://share.example/?token=nope'))).status).toBe(404);
  });
});

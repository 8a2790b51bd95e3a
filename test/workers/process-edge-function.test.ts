/**
 * The processing worker where Supabase users run it: the Edge Function of
 * supabase/functions/upload-lifecycle-process, unchanged, under real Deno 2 against the local
 * stack (PostgREST-shaped RPCs and Storage, objects read through `download()` with the service
 * key); the same handler in Node; and `runWorker` over the Supabase port as a Node process.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSupabaseBackend } from '../../src/adapters/supabase.js';
import { type LocalSupabase } from '../../src/server/local-supabase.js';
import {
  createProcessingHandler,
  runWorker,
  sha256Processor,
  supabaseProcessingPort,
  thumbnailProcessor,
  typeProcessor,
} from '../../src/workers/index.js';
import { createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { startEdgeFunction } from './edge-function.js';
import { localClient } from '../support/local-client.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

const root = resolve(import.meta.dirname, '../..');
const FUNCTION = join(root, 'supabase/functions/upload-lifecycle-process/index.ts');
const PNG = Uint8Array.from(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
);
const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let db: TestDb;
let local: LocalSupabase;
let userId: string;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack('process-');
  ({ db, local } = stack);
});
afterAll(() => stack.close());
beforeEach(async () => {
  await resetDb(db);
  userId = await createUser(db);
  await defineKind(db, {
    kind: 'gallery',
    requirements: [
      { slot: 'photos', minCount: 1, maxCount: 2, maxBytes: 10_000, allowedMimeTypes: ['image/*'] },
    ],
    processors: [{ processor: 'sha256' }, { processor: 'type' }],
  });
});

const clientFor = (key: string, token?: string) => localClient(local.url, key, token);

/** A photo uploaded through the local Storage and finalized: the entity is processing. */
async function processingUpload(sha256: string) {
  const backend = createSupabaseBackend(clientFor(local.anonKey, local.tokenFor(userId)), {
    resumableThreshold: Infinity,
  });
  const draft = await backend.createDraft({
    kind: 'gallery',
    startUpload: true,
    files: [{ key: 'p', slot: 'photos', filename: 'p.png', size: PNG.length, mime: 'image/png', sha256 }],
  });
  const file = draft.files[0]!;
  await backend.uploadObject({
    bucketId: file.bucketId,
    objectPath: file.objectPath,
    body: PNG,
    contentType: 'image/png',
    size: PNG.length,
    signal: new AbortController().signal,
  });
  const finalized = await backend.finalizeUpload(draft.entityId);
  expect(finalized.status).toBe('processing');
  return { backend, entityId: draft.entityId };
}

describe('the processing worker on Supabase', { timeout: 120_000 }, () => {
  it('runs unchanged as an Edge Function under Deno 2: reads the object through Storage and completes the entity', async () => {
    const { backend, entityId } = await processingUpload(hex(PNG));
    const edge = await startEdgeFunction(FUNCTION, {
      SUPABASE_URL: local.url,
      SUPABASE_SERVICE_ROLE_KEY: local.serviceKey,
    });
    try {
      const refused = await fetch(edge.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${local.anonKey}` },
      });
      expect(refused.status).toBe(401);
      const answer = await fetch(edge.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${local.serviceKey}` },
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ claimed: 2, completed: 2, failed: 0, lost: 0, errors: [] });
      expect((await backend.getUploadState(entityId)).status).toBe('completed');
      // The bytes were read through Storage's download route with the service key.
      const reads = local.log.filter((r) => r.method === 'GET' && r.path.startsWith('/storage/v1/object/'));
      expect(reads.length).toBeGreaterThanOrEqual(2);
      expect(reads.every((r) => r.status === 200 && r.headers.apikey === local.serviceKey)).toBe(true);
    } finally {
      await edge.stop();
    }
  });

  it('the same handler in Node fails the entity on a hash mismatch; runWorker over the Supabase port completes another', async () => {
    const bad = await processingUpload('c'.repeat(64));
    const handler = createProcessingHandler(clientFor(local.serviceKey), {
      token: local.serviceKey,
      processors: [sha256Processor, typeProcessor],
    });
    const answer = await handler(
      new Request('http://process.local/', {
        method: 'POST',
        headers: { authorization: `Bearer ${local.serviceKey}` },
      }),
    );
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ failed: 1 });
    const failed = await bad.backend.getUploadState(bad.entityId);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toMatch(/sha256/);

    const good = await processingUpload(hex(PNG));
    const report = await runWorker({
      port: supabaseProcessingPort(clientFor(local.serviceKey)),
      processors: [sha256Processor, typeProcessor],
      untilIdle: true,
      pollIntervalMs: 5,
    }).done;
    expect(report).toMatchObject({ claimed: 2, completed: 2, failed: 0, lost: 0 });
    expect((await good.backend.getUploadState(good.entityId)).status).toBe('completed');
  });

  it('runWorker({ supabase }) with thumbnailProcessor: the variant is written through Storage and the owner reads it', async () => {
    await defineKind(db, {
      kind: 'album',
      requirements: [
        { slot: 'photos', minCount: 1, maxCount: 1, maxBytes: 100_000, allowedMimeTypes: ['image/*'] },
      ],
      processors: [{ processor: 'thumbnail', required: false }],
    });
    const photo = new Uint8Array(
      await sharp({ create: { width: 300, height: 600, channels: 3, background: '#884422' } })
        .png()
        .toBuffer(),
    );
    const owner = clientFor(local.anonKey, local.tokenFor(userId));
    const backend = createSupabaseBackend(owner, { resumableThreshold: Infinity });
    const draft = await backend.createDraft({
      kind: 'album',
      startUpload: true,
      files: [{ key: 'p', slot: 'photos', filename: 'p.png', size: photo.length, mime: 'image/png' }],
    });
    const file = draft.files[0]!;
    await backend.uploadObject({
      bucketId: file.bucketId,
      objectPath: file.objectPath,
      body: photo,
      contentType: 'image/png',
      size: photo.length,
      signal: new AbortController().signal,
    });
    // No required processor: the entity completes at finalize; the variant follows.
    expect((await backend.finalizeUpload(draft.entityId)).status).toBe('completed');

    const report = await runWorker({
      supabase: clientFor(local.serviceKey),
      processors: [thumbnailProcessor({ width: 100, height: 100, format: 'jpeg' })],
      untilIdle: true,
      pollIntervalMs: 5,
    }).done;
    expect(report).toMatchObject({ claimed: 1, completed: 1, failed: 0, lost: 0 });
    const job = (await backend.getUploadState(draft.entityId)).jobs[0]!;
    expect(job).toMatchObject({ processor: 'thumbnail', status: 'complete', required: false });
    const artifact = job.artifacts[0]!;
    expect(artifact).toMatchObject({ variant: 'thumbnail', contentType: 'image/jpeg' });
    // The owner downloads the variant through Storage with their own key (RLS on storage.objects).
    const { data, error } = await owner.storage.from(artifact.bucketId).download(artifact.objectPath);
    expect(error).toBeNull();
    const bytes = new Uint8Array(await data!.arrayBuffer());
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'jpeg', width: 50, height: 100 });
    // Nobody else reads it.
    const stranger = clientFor(local.anonKey, local.tokenFor(await createUser(db)));
    const denied = await stranger.storage.from(artifact.bucketId).download(artifact.objectPath);
    expect(denied.data).toBeNull();
    expect(denied.error).toMatchObject({ statusCode: '404' });
  });

  it('a signed-in user’s key cannot run the worker: the claim is refused (42501) and the handler says so', async () => {
    await processingUpload(hex(PNG));
    const handler = createProcessingHandler(clientFor(local.anonKey, local.tokenFor(userId)), {
      processors: [sha256Processor],
    });
    const answer = await handler(new Request('http://process.local/', { method: 'POST' }));
    expect(answer.status).toBe(500);
    expect(await answer.json()).toMatchObject({ error: { sqlstate: '42501' } });
  });
});

/**
 * The Supabase backend through supabase-js and tus-js-client against the local server
 * (PostgREST rpc + Storage over the real migrations in PGlite), with every request checked
 * against the documented contracts: paths, headers, bodies, and error payloads → typed errors.
 */
import { createHash } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, waitFor } from 'xstate';
import { createSupabaseBackend, SUPABASE_TUS_CHUNK_SIZE } from '../../src/adapters/supabase.js';
import { isStorageTransferError, type Backend } from '../../src/adapters/backend.js';
import { EntityNotFoundError, InvalidFileError } from '../../src/errors.js';
import { createUploadMachine } from '../../src/machines/upload.js';
import { selectPhase } from '../../src/machines/upload-selectors.js';
import { classifyFailure } from '../../src/machines/upload-retry.js';
import { type LocalSupabase } from '../../src/server/local-supabase.js';
import { createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind, eventsOf, statusOfRow } from '../support/fixtures.js';
import { startFaultProxy } from '../../src/server/fault-proxy.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

const MB = 1024 * 1024;
let db: TestDb;
let local: LocalSupabase;
let userId: string;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack('');
  ({ db, local } = stack);
});
afterAll(() => stack.close());
beforeEach(async () => {
  await resetDb(db);
  local.log.length = 0;
  local.writes.length = 0;
  userId = await createUser(db);
  await defineKind(db, {
    requirements: [
      {
        slot: 'document',
        minCount: 1,
        maxCount: 1,
        maxBytes: 40 * MB,
        allowedMimeTypes: ['application/pdf'],
      },
      { slot: 'photos', minCount: 0, maxCount: 3, maxBytes: 5_000, allowedMimeTypes: ['image/*'] },
    ],
  });
});

function supabaseFor(user: string) {
  return createClient(local.url, local.anonKey, {
    accessToken: async () => local.tokenFor(user),
    // Node 20 has no WebSocket and these tests use no realtime: a transport that is never opened.
    realtime: { transport: NoRealtime as never },
  });
}

class NoRealtime {
  constructor() {
    throw new Error('realtime is not used here');
  }
}

/** Deterministic "random" bytes, so a resumed upload can be compared byte for byte. */
function bytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
/** The `sub` of a `Bearer <jwt>` header. */
const subjectOf = (header: string | undefined) =>
  JSON.parse(
    Buffer.from(/^Bearer [^.]+\.([^.]+)\./.exec(header ?? '')?.[1] ?? '', 'base64url').toString() || '{}',
  ).sub;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const RETRY = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 };

function run(backend: Backend) {
  const clock = new SimulatedClock();
  const machine = createUploadMachine({ backend, random: () => 0.5 });
  const actor = createActor(machine, { clock, input: { kind: 'report', retry: RETRY } }).start();
  return { actor, clock };
}

/** Waits for the end, letting backoff delays pass (and noting why a file had to retry). */
const retryReasons: string[] = [];
async function untilDone(actor: ReturnType<typeof run>['actor'], clock: SimulatedClock) {
  const sub = actor.subscribe((s) => {
    const retrying = s.context.files.find((f) => f.status === 'retrying');
    if (retrying || s.matches({ finalizing: 'backoff' })) {
      if (retrying?.error) retryReasons.push(retrying.error.message);
      queueMicrotask(() => clock.increment(RETRY.maxDelayMs));
    }
  });
  try {
    return await waitFor(actor, (s) => s.matches('completed'));
  } finally {
    sub.unsubscribe();
  }
}

async function toUploading(actor: ReturnType<typeof run>['actor'], files: Parameters<typeof addFiles>[1]) {
  addFiles(actor, files);
  actor.send({ type: 'CREATE', metadata: { title: 'Q3' } });
  await waitFor(actor, (s) => selectPhase(s) === 'draft');
  actor.send({ type: 'START' });
}
function addFiles(
  actor: ReturnType<typeof run>['actor'],
  files: { slot: string; body: Uint8Array; name: string; type: string }[],
) {
  actor.send({ type: 'ADD_FILES', files });
}

describe('createSupabaseBackend', { timeout: 60_000 }, () => {
  it('speaks PostgREST: POST /rest/v1/rpc/{fn}, apikey + bearer, JSON named arguments', async () => {
    const backend = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: Infinity });
    const { actor } = run(backend);
    await toUploading(actor, [
      { slot: 'document', body: bytes(2000), name: 'r.pdf', type: 'application/pdf' },
    ]);
    const done = await waitFor(actor, (s) => s.matches('completed'));
    expect(await statusOfRow(db, done.context.entityId!)).toBe('completed');

    const rpcs = local.log.filter((r) => r.path.startsWith('/rest/v1/rpc/'));
    expect(rpcs.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /rest/v1/rpc/create_upload_draft',
      'POST /rest/v1/rpc/start_upload',
      'POST /rest/v1/rpc/finalize_upload',
    ]);
    for (const r of rpcs) {
      expect(r.headers.apikey).toBe(local.anonKey);
      expect(subjectOf(r.headers.authorization)).toBe(userId);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.status).toBe(200);
    }
    expect(rpcs[0]!.body).toEqual({
      kind: 'report',
      metadata: { title: 'Q3' },
      idempotency_key: expect.any(String),
    });
    // begin + registration in one call (`start_upload`), the file's JSON array typed as jsonb.
    expect(rpcs[1]!.body).toEqual({
      entity_id: done.context.entityId,
      files: [
        {
          key: expect.any(String),
          slot: 'document',
          filename: 'r.pdf',
          size: 2000,
          mime: 'application/pdf',
          sha256: null,
        },
      ],
    });
  });

  it('speaks Storage: standard upload POST /storage/v1/object/{bucket}/{path} with x-upsert false', async () => {
    const backend = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: Infinity });
    const { actor } = run(backend);
    const body = bytes(3000);
    await toUploading(actor, [{ slot: 'document', body, name: 'r.pdf', type: 'application/pdf' }]);
    const done = await waitFor(actor, (s) => s.matches('completed'));
    const file = done.context.files[0]!;

    const uploads = local.log.filter((r) => r.path.startsWith('/storage/v1/object/'));
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.path).toBe(`/storage/v1/object/report-files/${file.objectPath}`);
    expect(file.objectPath).toBe(`${userId}/${done.context.entityId}/${file.fileId}`);
    expect(uploads[0]!.headers).toMatchObject({
      'x-upsert': 'false',
      'content-type': 'application/pdf',
      apikey: local.anonKey,
    });
    expect(subjectOf(uploads[0]!.headers.authorization)).toBe(userId);
    expect(sha((await local.readObject('report-files', file.objectPath!))!)).toBe(sha(body));
  });

  it('maps Storage refusals to typed errors: policy, duplicate and too large, each HTTP 400 with its statusCode', async () => {
    const backend = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: Infinity });
    const draft = await backend.createDraft({ kind: 'report' });
    const transfer = (objectPath: string, size = 100, contentType = 'application/pdf') => ({
      bucketId: 'report-files',
      objectPath,
      body: bytes(size),
      contentType,
      size,
      signal: new AbortController().signal,
    });
    const denied = await backend
      .uploadObject(transfer(`${userId}/${draft.entityId}/nope`))
      .catch((e: unknown) => e);
    expect(isStorageTransferError(denied) && [denied.status, denied.storageCode, denied.retryable]).toEqual([
      400,
      'AccessDenied',
      false,
    ]);
    const last = local.log.at(-1)!;
    expect(last.status).toBe(400);

    await backend.beginUpload(draft.entityId);
    const file = await backend.registerFile(draft.entityId, {
      slot: 'document',
      filename: 'a.pdf',
      size: 100,
      mime: 'application/pdf',
    });
    await backend.uploadObject(transfer(file.objectPath));
    const duplicate = await backend.uploadObject(transfer(file.objectPath)).catch((e: unknown) => e);
    // HTTP 400 with statusCode "409" in the body: the standard endpoint's way.
    expect(isStorageTransferError(duplicate) && [duplicate.status, duplicate.storageCode]).toEqual([
      400,
      'Duplicate',
    ]);

    const photo = await backend.registerFile(draft.entityId, {
      slot: 'photos',
      filename: 'p.png',
      size: 100,
      mime: 'image/png',
    });
    const tooLarge = await backend
      .uploadObject(transfer(photo.objectPath, 41 * MB, 'image/png'))
      .catch((e: unknown) => e);
    expect(isStorageTransferError(tooLarge) && tooLarge.storageCode).toBe('EntityTooLarge');
  });

  it('maps PostgREST errors to the typed errors of the database contract', async () => {
    const backend = createSupabaseBackend(supabaseFor(userId));
    const other = createSupabaseBackend(supabaseFor(await createUser(db)));
    const draft = await backend.createDraft({ kind: 'report' });
    const notFound = await other.getUploadState(draft.entityId).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(EntityNotFoundError);
    expect(local.log.at(-1)!.status).toBe(400);
    await backend.beginUpload(draft.entityId);
    const invalid = await backend
      .registerFile(draft.entityId, { slot: 'photos', filename: 'p.gif', size: 6000, mime: 'image/gif' })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidFileError);
    expect((invalid as InvalidFileError).hint).toBeTruthy();
  });

  it('resumable: tus to /storage/v1/upload/resumable in 6 MB chunks with bearer, apikey, metadata and x-upsert false', async () => {
    const backend = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: 0 });
    const { actor } = run(backend);
    const body = bytes(13 * MB, 7);
    const progress: number[] = [];
    actor.subscribe((s) => {
      const sent = s.context.files[0]?.bytesSent;
      if (sent !== undefined && sent !== progress.at(-1)) progress.push(sent);
    });
    await toUploading(actor, [{ slot: 'document', body, name: 'big.pdf', type: 'application/pdf' }]);
    const done = await waitFor(actor, (s) => s.matches('completed'));
    const file = done.context.files[0]!;

    const tus = local.log.filter((r) => r.path.startsWith('/storage/v1/upload/resumable'));
    const create = tus.find((r) => r.method === 'POST')!;
    expect(create.path).toBe('/storage/v1/upload/resumable');
    expect(create.headers).toMatchObject({
      'tus-resumable': '1.0.0',
      'upload-length': String(13 * MB),
      'x-upsert': 'false',
      apikey: local.anonKey,
    });
    expect(subjectOf(create.headers.authorization)).toBe(userId);
    const metadata = Object.fromEntries(
      create.headers['upload-metadata']!.split(',').map((pair) => {
        const [k, v] = pair.split(' ');
        return [k, Buffer.from(v ?? '', 'base64').toString()];
      }),
    );
    expect(metadata).toMatchObject({
      bucketName: 'report-files',
      objectName: file.objectPath,
      contentType: 'application/pdf',
      cacheControl: '3600',
    });
    expect(local.writes.map((w) => [w.offset, w.bytes])).toEqual([
      [0, SUPABASE_TUS_CHUNK_SIZE],
      [SUPABASE_TUS_CHUNK_SIZE, SUPABASE_TUS_CHUNK_SIZE],
      [2 * SUPABASE_TUS_CHUNK_SIZE, 13 * MB - 2 * SUPABASE_TUS_CHUNK_SIZE],
    ]);
    expect(progress.at(-1)).toBe(13 * MB);
    expect(progress.length).toBeGreaterThan(2);
    expect(sha((await local.readObject('report-files', file.objectPath!))!)).toBe(sha(body));
    const { rows } = await db.query<{ owner_id: string; size: string }>(
      `select owner_id, metadata->>'size' as size from storage.objects`,
    );
    expect(rows).toEqual([{ owner_id: userId, size: String(13 * MB) }]);
  });

  it('resumable: a connection killed mid-chunk resumes from the last acknowledged offset, never re-sending a stored chunk', async () => {
    const proxy = await startFaultProxy(local.port);
    try {
      const backend = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: 0, url: proxy.url });
      const { actor, clock } = run(backend);
      const size = 14 * MB;
      const body = bytes(size, 3);
      // A pseudo-random byte inside the second chunk (fixed seed: the test is reproducible).
      const killAt =
        SUPABASE_TUS_CHUNK_SIZE +
        1 +
        Math.floor(bytes(4, 42).reduce((a, b) => a * 256 + b, 0) % SUPABASE_TUS_CHUNK_SIZE);
      addFiles(actor, [{ slot: 'document', body, name: 'big.pdf', type: 'application/pdf' }]);
      actor.send({ type: 'CREATE' });
      await waitFor(actor, (s) => selectPhase(s) === 'draft');
      proxy.killAfter(killAt);
      actor.send({ type: 'START' });
      await waitFor(actor, (s) => s.context.files[0]!.status === 'retrying');
      expect(proxy.kills).toBe(1);
      clock.increment(RETRY.maxDelayMs);
      const done = await waitFor(actor, (s) => s.matches('completed'));
      expect(done.value).toBe('completed');

      const writes = local.writes.map((w) => ({ offset: w.offset, bytes: w.bytes }));
      // Each write starts where the stored bytes end: nothing stored twice, no gap.
      let stored = 0;
      for (const w of writes) {
        expect(w.offset).toBe(stored);
        stored += w.bytes;
      }
      expect(stored).toBe(size);
      // The first chunk was acknowledged before the kill and never sent again.
      expect(writes[0]).toEqual({ offset: 0, bytes: SUPABASE_TUS_CHUNK_SIZE });
      expect(writes.filter((w) => w.offset === 0)).toHaveLength(1);
      // What went over the wire beyond the file is only what died in flight (< one chunk) + headers.
      expect(proxy.upstreamBytes - size).toBeLessThan(SUPABASE_TUS_CHUNK_SIZE);
      const heads = local.log.filter((r) => r.method === 'HEAD');
      expect(heads).toHaveLength(1);
      expect(sha((await local.readObject('report-files', done.context.files[0]!.objectPath!))!)).toBe(
        sha(body),
      );
    } finally {
      await proxy.close();
    }
  });

  it('resumable: a policy refusal is a real 403 and is not retried', async () => {
    const backend = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: 0 });
    const draft = await backend.createDraft({ kind: 'report' });
    const refused = await backend
      .uploadObject({
        bucketId: 'report-files',
        objectPath: `${userId}/${draft.entityId}/nope`,
        body: bytes(100),
        contentType: 'application/pdf',
        size: 100,
        signal: new AbortController().signal,
      })
      .catch((e: unknown) => e);
    expect(
      isStorageTransferError(refused) && [refused.status, refused.storageCode, refused.retryable],
    ).toEqual([403, 'AccessDenied', false]);
  });

  it('resumable: an object that already exists answers 409 (x-upsert false), which counts as uploaded', async () => {
    const standard = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: Infinity });
    const resumable = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: 0 });
    const draft = await standard.createDraft({ kind: 'report' });
    await standard.beginUpload(draft.entityId);
    const file = await standard.registerFile(draft.entityId, {
      slot: 'document',
      filename: 'a.pdf',
      size: 100,
      mime: 'application/pdf',
    });
    const transfer = {
      bucketId: file.bucketId,
      objectPath: file.objectPath,
      body: bytes(100),
      contentType: 'application/pdf',
      size: 100,
      signal: new AbortController().signal,
    };
    await standard.uploadObject(transfer);
    const again = await resumable.uploadObject(transfer).catch((e: unknown) => e);
    expect(isStorageTransferError(again) && [again.status, again.storageCode]).toEqual([409, 'Duplicate']);
    expect(classifyFailure(again)).toBe('exists');
    expect(local.log.at(-1)).toMatchObject({
      method: 'POST',
      path: '/storage/v1/upload/resumable',
      status: 409,
    });
  });

  it('a file failing every try ends failed; RETRY then succeeds; CANCEL aborts in flight and stays recoverable', async () => {
    const proxy = await startFaultProxy(local.port);
    try {
      const backend = createSupabaseBackend(supabaseFor(userId), { resumableThreshold: 0, url: proxy.url });
      const { actor, clock } = run(backend);
      const body = bytes(20 * MB, 5);
      addFiles(actor, [{ slot: 'document', body, name: 'big.pdf', type: 'application/pdf' }]);
      actor.send({ type: 'CREATE' });
      await waitFor(actor, (s) => selectPhase(s) === 'draft');
      proxy.killAfter(1000);
      actor.send({ type: 'START' });
      for (let failures = 1; failures < RETRY.attempts; failures++) {
        await waitFor(actor, (s) => s.context.files[0]!.failures === failures);
        proxy.killAfter(1000);
        clock.increment(RETRY.maxDelayMs);
      }
      const failed = await waitFor(actor, (s) => selectPhase(s) === 'failed');
      expect(failed.context.files[0]!.status).toBe('error');
      expect(await statusOfRow(db, failed.context.entityId!)).toBe('failed');
      expect(proxy.kills).toBe(RETRY.attempts);

      // Retry: a new attempt in the database; CANCEL as soon as bytes flow aborts the request in
      // flight (the server never sees the upload finish) and leaves the entity recoverable.
      actor.send({ type: 'RETRY' });
      await waitFor(actor, (s) => selectPhase(s) === 'uploading' && s.context.files[0]!.bytesSent > 0);
      actor.send({ type: 'CANCEL' });
      const cancelled = await waitFor(actor, (s) => selectPhase(s) === 'failed');
      expect(cancelled.context.files[0]!.status).toBe('queued');
      expect(cancelled.context.files[0]!.bytesSent).toBeLessThan(body.length);
      expect(await statusOfRow(db, cancelled.context.entityId!)).toBe('failed');

      actor.send({ type: 'RETRY' });
      const done = await untilDone(actor, clock);
      expect(done.value).toBe('completed');
      const events = (await eventsOf(db, done.context.entityId!)).map(
        (e) => `${e.from_status ?? '-'}→${e.to_status}`,
      );
      expect(events).toEqual([
        '-→draft',
        'draft→uploading',
        'uploading→failed',
        'failed→uploading',
        'uploading→failed',
        'failed→uploading',
        'uploading→completed',
      ]);
      expect(sha((await local.readObject('report-files', done.context.files[0]!.objectPath!))!)).toBe(
        sha(body),
      );
    } finally {
      await proxy.close();
    }
  });
});

/**
 * The Supabase adapter where the real Supabase differs from a naive picture of it (issue 14), through
 * supabase-js and tus-js-client against the local server, which answers as Supabase's storage
 * server does: which bearer tus sends, tokens that expire mid-upload, database refusals inside
 * Storage, who may touch a tus upload URL, how refusals are rendered and in which order the write
 * rules apply, and RPCs with array arguments.
 */
import { join } from 'node:path';
import { createClient, type SupabaseClientOptions } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, waitFor } from 'xstate';
import { isStorageTransferError } from '../../src/adapters/backend.js';
import { createSupabaseBackend, SUPABASE_TUS_CHUNK_SIZE } from '../../src/adapters/supabase.js';
import { StorageWriteError, writeStorageObject } from '../../src/db/storage-write.js';
import { NotAcceptingError } from '../../src/errors.js';
import { createUploadMachine } from '../../src/machines/upload.js';
import { classifyFailure } from '../../src/machines/upload-retry.js';
import { selectPhase } from '../../src/machines/upload-selectors.js';
import { startLocalSupabase, type LocalSupabase } from '../../src/server/local-supabase.js';
import { createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind, statusOfRow } from '../support/fixtures.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

const MB = 1024 * 1024;
const PDF = 'application/pdf';
let db: TestDb;
let local: LocalSupabase;
let directory: string;
let userId: string;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack('');
  ({ db, local, directory } = stack);
});
afterAll(() => stack.close());
beforeEach(async () => {
  await resetDb(db);
  local.log.length = 0;
  local.writes.length = 0;
  userId = await createUser(db);
  await defineKind(db, {
    requirements: [
      { slot: 'document', minCount: 1, maxCount: 1, maxBytes: 40 * MB, allowedMimeTypes: [PDF] },
      { slot: 'photos', minCount: 0, maxCount: 3, maxBytes: 5_000, allowedMimeTypes: ['image/*'] },
    ],
  });
});

/** Node 20 has no WebSocket and nothing here uses realtime: a transport that is never opened. */
class NoRealtime {
  constructor() {
    throw new Error('realtime is not used here');
  }
}
function client(server: LocalSupabase, key: string, options: SupabaseClientOptions<'public'> = {}) {
  return createClient(server.url, key, {
    ...options,
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: NoRealtime as never },
  });
}
function bytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
const bearerOf = (header: string | undefined) => /^Bearer (.+)$/.exec(header ?? '')?.[1];
const subjectOf = (header: string | undefined) =>
  JSON.parse(Buffer.from(bearerOf(header)?.split('.')[1] ?? '', 'base64url').toString() || '{}').sub;
const transfer = (file: { bucketId: string; objectPath: string }, size: number, extra = {}) => ({
  bucketId: file.bucketId,
  objectPath: file.objectPath,
  body: Buffer.from(bytes(size)),
  contentType: PDF,
  size,
  signal: new AbortController().signal,
  ...extra,
});
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected a refusal'),
    (error: unknown) => error,
  );
const RETRY = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 };

/** An uploading entity of `user` with one registered document of `size` bytes. */
async function registeredDocument(backend: ReturnType<typeof createSupabaseBackend>, size = 100) {
  const draft = await backend.createDraft({ kind: 'report' });
  await backend.beginUpload(draft.entityId);
  const file = await backend.registerFile(draft.entityId, {
    slot: 'document',
    filename: 'a.pdf',
    size,
    mime: PDF,
  });
  return { entityId: draft.entityId, file };
}

describe('tus sends the bearer the supabase-js client itself sends', () => {
  const setups: [string, (user: string, other: string) => SupabaseClientOptions<'public'>][] = [
    [
      'a client with the user token in its global Authorization header (server side, tests)',
      (user) => ({ global: { headers: { Authorization: `Bearer ${local.tokenFor(user)}` } } }),
    ],
    [
      'a client with the accessToken option (third-party auth)',
      (user) => ({ accessToken: async () => local.tokenFor(user) }),
    ],
    [
      'a client with both: the global header wins, as it does on every supabase-js request',
      (user, other) => ({
        accessToken: async () => local.tokenFor(other),
        global: { headers: { Authorization: `Bearer ${local.tokenFor(user)}` } },
      }),
    ],
  ];
  it.each(setups)('%s', async (_, options) => {
    const supabase = client(local, local.anonKey, options(userId, await createUser(db)));
    const backend = createSupabaseBackend(supabase, { resumableThreshold: 0 });
    const { entityId, file } = await registeredDocument(backend);
    await backend.uploadObject(transfer(file, 100));
    expect((await backend.finalizeUpload(entityId)).status).toBe('completed');

    const tus = local.log.filter((r) => r.path.startsWith('/storage/v1/upload/resumable'));
    const rpcs = local.log.filter((r) => r.path.startsWith('/rest/v1/rpc/'));
    expect(tus.length).toBeGreaterThan(0);
    expect(new Set([...tus, ...rpcs].map((r) => subjectOf(r.headers.authorization)))).toEqual(
      new Set([userId]),
    );
  });
});

describe('tokens are read per request; an expired one is an auth error the next try recovers from', () => {
  it('resumable: a token refreshed mid-upload goes with the next chunk', async () => {
    let current = local.tokenFor(userId, 600);
    const first = current;
    const refreshed = local.tokenFor(userId, 1200);
    const backend = createSupabaseBackend(
      client(local, local.anonKey, { accessToken: async () => current }),
      {
        resumableThreshold: 0,
      },
    );
    const { file } = await registeredDocument(backend, 13 * MB);
    await backend.uploadObject(
      transfer(file, 13 * MB, {
        onProgress: (sent: number) => {
          if (sent >= SUPABASE_TUS_CHUNK_SIZE) current = refreshed;
        },
      }),
    );
    const tus = local.log.filter((r) => r.path.startsWith('/storage/v1/upload/resumable'));
    expect(tus.map((r) => [r.method, bearerOf(r.headers.authorization)])).toEqual([
      ['POST', first],
      ['PATCH', refreshed],
      ['PATCH', refreshed],
    ]);
  });

  it('resumable: a token that expires mid-upload is refused (InvalidJWT), retried with the refreshed token, and the upload completes from where it stopped', async () => {
    let serverNow = Date.now();
    const expiring = await startLocalSupabase(db, {
      directory: join(directory, 'expiring'),
      now: () => serverNow,
    });
    try {
      let current = expiring.tokenFor(userId, 60);
      const stale = current;
      const backend = createSupabaseBackend(
        client(expiring, expiring.anonKey, { accessToken: async () => current }),
        {
          resumableThreshold: 0,
        },
      );
      const clock = new SimulatedClock();
      const actor = createActor(createUploadMachine({ backend, random: () => 0.5 }), {
        clock,
        input: { kind: 'report', retry: RETRY },
      }).start();
      const body = bytes(13 * MB, 9);
      actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body, name: 'big.pdf', type: PDF }] });
      actor.send({ type: 'CREATE' });
      await waitFor(actor, (s) => selectPhase(s) === 'draft');
      actor.send({ type: 'START' });
      // The first chunk is on its way (its request was authorized): the token expires now.
      await waitFor(actor, (s) => (s.context.files[0]?.bytesSent ?? 0) >= SUPABASE_TUS_CHUNK_SIZE);
      serverNow += 120_000;
      const retrying = await waitFor(actor, (s) => s.context.files[0]!.status === 'retrying');
      expect(retrying.context.files[0]!.error).toMatchObject({ name: 'StorageTransferError' });
      expect(JSON.stringify(retrying.context.files[0]!.error)).toContain('InvalidJWT');
      // The client refreshes its session (supabase-js does it on its own timer).
      current = expiring.tokenFor(userId, 3600);
      clock.increment(RETRY.maxDelayMs);
      const done = await waitFor(actor, (s) => selectPhase(s) === 'completed');
      expect(done.value).toBe('completed');
      expect(await statusOfRow(db, done.context.entityId!)).toBe('completed');

      const tus = expiring.log.filter((r) => r.path.startsWith('/storage/v1/upload/resumable'));
      const refused = tus.find((r) => r.status === 400)!;
      expect([refused.method, bearerOf(refused.headers.authorization)]).toEqual(['PATCH', stale]);
      for (const r of tus.slice(tus.indexOf(refused) + 1))
        expect(bearerOf(r.headers.authorization)).toBe(current);
      // Resumed, not restarted: every stored chunk starts where the stored bytes end.
      let stored = 0;
      for (const w of expiring.writes) {
        expect(w.offset).toBe(stored);
        stored += w.bytes;
      }
      expect(stored).toBe(body.length);
    } finally {
      await expiring.close();
    }
  });

  it('standard: an expired token is refused as InvalidJWT, a retryable auth error', async () => {
    // The client's clock says the token has expired once the server's does.
    let serverNow = Date.now() - 120_000;
    const expiring = await startLocalSupabase(db, {
      directory: join(directory, 'expiring-std'),
      now: () => serverNow,
    });
    try {
      const token = expiring.tokenFor(userId, 60);
      const backend = createSupabaseBackend(
        client(expiring, expiring.anonKey, { accessToken: async () => token }),
        {
          resumableThreshold: Infinity,
        },
      );
      const { file } = await registeredDocument(backend);
      serverNow += 120_000;
      const refused = await failureOf(backend.uploadObject(transfer(file, 100)));
      expect(expiring.log.at(-1)!.status).toBe(400);
      expect(isStorageTransferError(refused) && [refused.storageCode, refused.retryable]).toEqual([
        'InvalidJWT',
        true,
      ]);
      expect(classifyFailure(refused)).toBe('retry');
    } finally {
      await expiring.close();
    }
  });
});

describe('a database refusal inside Storage is the typed error of its code', () => {
  /** A completed entity with one stored document, and a backend with the service key. */
  async function completedDocument() {
    const owner = createSupabaseBackend(
      client(local, local.anonKey, { accessToken: async () => local.tokenFor(userId) }),
      {
        resumableThreshold: Infinity,
      },
    );
    const { entityId, file } = await registeredDocument(owner);
    await owner.uploadObject(transfer(file, 100));
    expect((await owner.finalizeUpload(entityId)).status).toBe('completed');
    return file;
  }

  it.each([
    ['standard', Infinity],
    ['resumable', 0],
  ])(
    '%s: the service key replacing a completed entity’s object answers HTTP 500 DatabaseError (UL005): NotAcceptingError, never retried',
    async (_, resumableThreshold) => {
      const file = await completedDocument();
      const service = createSupabaseBackend(client(local, local.serviceKey), { resumableThreshold });
      const refused = await failureOf(service.uploadObject(transfer(file, 100, { upsert: true })));
      expect(local.log.at(-1)!.status).toBe(500);
      expect(refused).toBeInstanceOf(NotAcceptingError);
      expect((refused as NotAcceptingError).code).toBe('UL005');
      expect((refused as NotAcceptingError).message).toContain('UL005');
      expect(classifyFailure(refused)).toBe('fatal');
    },
  );
});

describe('the local server answers as the real one', () => {
  it('resumable: anyone may read an upload’s offset (HEAD is not authorized), another user’s PATCH is 403', async () => {
    const backend = createSupabaseBackend(
      client(local, local.anonKey, { accessToken: async () => local.tokenFor(userId) }),
    );
    const { file } = await registeredDocument(backend);
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    const headers = (user: string) => ({
      'tus-resumable': '1.0.0',
      apikey: local.anonKey,
      authorization: `Bearer ${local.tokenFor(user)}`,
    });
    const created = await fetch(`${local.url}/storage/v1/upload/resumable`, {
      method: 'POST',
      headers: {
        ...headers(userId),
        'upload-length': '100',
        'upload-metadata': `bucketName ${b64(file.bucketId)},objectName ${b64(file.objectPath)},contentType ${b64(PDF)}`,
      },
    });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    const stranger = await createUser(db);
    const head = await fetch(location, { method: 'HEAD', headers: headers(stranger) });
    expect([head.status, head.headers.get('upload-offset')]).toEqual([200, '0']);
    const patch = (user: string) =>
      fetch(location, {
        method: 'PATCH',
        headers: {
          ...headers(user),
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
        },
        body: Buffer.from(bytes(100)),
      });
    const foreign = await patch(stranger);
    expect([foreign.status, await foreign.text()]).toEqual([
      403,
      'new row violates row-level security policy',
    ]);
    expect(local.writes).toEqual([]);
    expect((await patch(userId)).status).toBe(204);
  });

  it('standard: 409, 413 and 415 come as HTTP 400 with the status in the body’s statusCode', async () => {
    const backend = createSupabaseBackend(
      client(local, local.anonKey, { accessToken: async () => local.tokenFor(userId) }),
      {
        resumableThreshold: Infinity,
      },
    );
    const { entityId, file } = await registeredDocument(backend);
    const photo = await backend.registerFile(entityId, {
      slot: 'photos',
      filename: 'p.png',
      size: 100,
      mime: 'image/png',
    });
    const post = (path: string, size: number, type: string) =>
      fetch(`${local.url}/storage/v1/object/${file.bucketId}/${path}`, {
        method: 'POST',
        headers: {
          apikey: local.anonKey,
          authorization: `Bearer ${local.tokenFor(userId)}`,
          'content-type': type,
        },
        body: Buffer.from(bytes(size)),
      });
    expect((await post(file.objectPath, 100, PDF)).status).toBe(200);
    const answers = [
      await post(file.objectPath, 100, PDF),
      await post(photo.objectPath, 41 * MB, 'image/png'),
      await post(photo.objectPath, 100, 'text/plain'),
    ];
    expect(await Promise.all(answers.map(async (r) => [r.status, await r.json()]))).toEqual([
      [
        400,
        {
          statusCode: '409',
          code: 'ResourceAlreadyExists',
          error: 'Duplicate',
          message: 'The resource already exists',
        },
      ],
      [400, expect.objectContaining({ statusCode: '413', code: 'EntityTooLarge' })],
      [400, expect.objectContaining({ statusCode: '415', code: 'InvalidMimeType' })],
    ]);
    const duplicate = await failureOf(backend.uploadObject(transfer(file, 100)));
    expect(isStorageTransferError(duplicate) && [duplicate.status, duplicate.storageCode]).toEqual([
      400,
      'Duplicate',
    ]);
    expect(classifyFailure(duplicate)).toBe('exists');
  });

  it('an oversized write to a forbidden path is refused for its size everywhere, as the real server checks limits first', async () => {
    const backend = createSupabaseBackend(
      client(local, local.anonKey, { accessToken: async () => local.tokenFor(userId) }),
    );
    const { file } = await registeredDocument(backend);
    const forbidden = { bucketId: file.bucketId, objectPath: `${userId}/not/registered` };
    const oversized = 41 * MB;
    const standard = createSupabaseBackend(
      client(local, local.anonKey, { accessToken: async () => local.tokenFor(userId) }),
      {
        resumableThreshold: Infinity,
      },
    );
    const resumable = createSupabaseBackend(
      client(local, local.anonKey, { accessToken: async () => local.tokenFor(userId) }),
      {
        resumableThreshold: 0,
      },
    );
    const viaStandard = await failureOf(standard.uploadObject(transfer(forbidden, oversized)));
    const viaTus = await failureOf(resumable.uploadObject(transfer(forbidden, oversized)));
    const embedded = await failureOf(
      writeStorageObject(db, {
        bucketId: forbidden.bucketId,
        name: forbidden.objectPath,
        ownerId: userId,
        size: oversized,
        mimetype: PDF,
      }),
    );
    expect([viaStandard, viaTus].map((e) => isStorageTransferError(e) && [e.status, e.storageCode])).toEqual([
      [400, 'EntityTooLarge'],
      [413, 'EntityTooLarge'],
    ]);
    expect(embedded instanceof StorageWriteError && embedded.status).toBe(413);
    // Within the limits, the same path is refused by the policies.
    const denied = await failureOf(standard.uploadObject(transfer(forbidden, 100)));
    expect(isStorageTransferError(denied) && denied.storageCode).toBe('AccessDenied');
  });

  it('rpc: a JSON array reaches a bigint[] parameter as an array (complete_storage_deletions)', async () => {
    const { rows } = await db.query<{ id: string }>(
      `insert into upload_lifecycle.storage_deletions (bucket_id, object_path, reason)
       values ('report-files', 'gone/1', 'orphan'), ('report-files', 'gone/2', 'orphan') returning id`,
    );
    const admin = client(local, local.serviceKey);
    const claimed = await admin.rpc('claim_storage_deletions', { batch: 10, lease_seconds: 60 });
    expect(claimed.error).toBeNull();
    expect((claimed.data as { id: number }[]).map((r) => String(r.id)).sort()).toEqual(
      rows.map((r) => String(r.id)).sort(),
    );
    const completed = await admin.rpc('complete_storage_deletions', { ids: rows.map((r) => Number(r.id)) });
    expect(completed).toMatchObject({ error: null, data: { completed: 2, still_present: [] } });
  });
});

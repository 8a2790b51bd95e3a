/**
 * Processing end to end on the embedded backend: the real SQL (finalize → processing, the worker
 * RPCs, the deferred completion check) and the real worker (`runWorker` over `sqlProcessingPort`),
 * with the built-in processors reading the bytes the client uploaded.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgliteBackend } from '../../src/adapters/pglite.js';
import type { FileRegistration } from '../../src/core/port.js';
import {
  defineProcessor,
  runWorker,
  sha256Processor,
  sqlProcessingPort,
  thumbnailProcessor,
  typeProcessor,
  type Processor,
  type ProcessingObjectStore,
} from '../../src/workers/index.js';
import { as, createPgliteDb, createUser, resetDb, service, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';

/** A real 1×1 PNG. */
const PNG = Uint8Array.from(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
);
const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let db: TestDb;
let userId: string;

beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetDb(db);
  userId = await createUser(db);
});

const thumbnail = defineProcessor({
  name: 'thumbnail',
  required: false,
  async run({ putArtifact, head }) {
    const first = await head(8);
    return { artifacts: [await putArtifact('small', first, 'image/png')], result: { width: 1 } };
  },
});

async function gallery(processors: { processor: string; required?: boolean; maxAttempts?: number }[]) {
  await defineKind(db, {
    kind: 'gallery',
    requirements: [
      { slot: 'photos', minCount: 1, maxCount: 2, maxBytes: 10_000, allowedMimeTypes: ['image/*'] },
    ],
    processors,
  });
}

/** Creates, uploads and finalizes one photo; answers the finalize state and the backend. */
async function uploadPhoto(file: Partial<FileRegistration> = {}, bytes: Uint8Array = PNG) {
  const backend = createPgliteBackend(db, { userId });
  const registration: FileRegistration = {
    key: 'p1',
    slot: 'photos',
    filename: 'a.png',
    size: bytes.length,
    mime: 'image/png',
    ...file,
  };
  const draft = await backend.createDraft({ kind: 'gallery', startUpload: true, files: [registration] });
  const target = draft.files[0]!;
  await backend.uploadObject({
    bucketId: target.bucketId,
    objectPath: target.objectPath,
    body: bytes,
    size: bytes.length,
    contentType: registration.mime,
    signal: new AbortController().signal,
  });
  const finalized = await backend.finalizeUpload(draft.entityId);
  return { backend, entityId: draft.entityId, finalized, fileId: target.fileId };
}

const work = (backend: { objects: ProcessingObjectStore }, processors: Processor[]) =>
  runWorker({
    port: sqlProcessingPort(db, backend.objects),
    processors,
    concurrency: 3,
    untilIdle: true,
    pollIntervalMs: 5,
  }).done;

describe('processing on PGlite, end to end', () => {
  it('finalize → processing; the worker checks hash and type, stores a thumbnail, and the database completes the entity', async () => {
    await gallery([
      { processor: 'sha256' },
      { processor: 'type' },
      { processor: 'thumbnail', required: false },
    ]);
    const { backend, entityId, finalized, fileId } = await uploadPhoto({ sha256: hex(PNG) });
    expect(finalized.status).toBe('processing');
    const report = await work(backend, [sha256Processor, typeProcessor, thumbnail]);
    expect(report).toMatchObject({ claimed: 3, completed: 3, failed: 0, lost: 0 });
    const state = await backend.getUploadState(entityId);
    expect(state.status).toBe('completed');
    const { rows } = await as(db, service, (tx) =>
      tx.query<{ processor: string; status: string; result: Record<string, unknown> }>(
        `select processor, status::text, result from upload_lifecycle.jobs where entity_id = $1 order by processor`,
        [entityId],
      ),
    );
    expect(rows.map((r) => [r.processor, r.status])).toEqual([
      ['sha256', 'complete'],
      ['thumbnail', 'complete'],
      ['type', 'complete'],
    ]);
    expect(rows[0]!.result).toMatchObject({ sha256: hex(PNG), declared: true });
    expect(rows[2]!.result).toMatchObject({ detected: 'image/png' });
    const artifacts = await as(db, service, (tx) =>
      tx.query<{ variant: string; object_path: string; size: string }>(
        `select variant, object_path, size from upload_lifecycle.artifacts where entity_id = $1`,
        [entityId],
      ),
    );
    expect(artifacts.rows).toHaveLength(1);
    expect(artifacts.rows[0]).toMatchObject({ variant: 'small', size: 8 });
    expect(artifacts.rows[0]!.object_path).toMatch(new RegExp(`/${entityId}/${fileId}\\.small$`));
  });

  it('a hash mismatch kills the sha256 job at once and fails the entity, naming file and processor', async () => {
    await gallery([{ processor: 'sha256' }]);
    const { backend, entityId, fileId } = await uploadPhoto({ sha256: 'a'.repeat(64) });
    const report = await work(backend, [sha256Processor]);
    expect(report).toMatchObject({ claimed: 1, completed: 0, failed: 1 });
    const state = await backend.getUploadState(entityId);
    expect(state.status).toBe('failed');
    expect(state.failureReason).toContain(fileId);
    expect(state.failureReason).toContain('sha256');
    expect(state.failureReason).toMatch(/declared a{64}/);
    const dead = await as(db, service, (tx) =>
      tx.query(`select 1 from upload_lifecycle.failed_jobs where entity_id = $1`, [entityId]),
    );
    expect(dead.rows).toHaveLength(1);
  });

  it('a PNG declared as image/jpeg completes upload checks but fails the type check', async () => {
    await gallery([{ processor: 'type' }]);
    const { backend, entityId, finalized } = await uploadPhoto({ mime: 'image/jpeg', filename: 'a.jpg' });
    expect(finalized.status).toBe('processing');
    await work(backend, [typeProcessor]);
    const state = await backend.getUploadState(entityId);
    expect(state.status).toBe('failed');
    expect(state.failureReason).toMatch(/declared image\/jpeg, but the stored bytes are image\/png/);
  });

  it('a processor that throws, times out, or answers an artifact not in Storage fails its job with the error kept', async () => {
    // Optional jobs (the entity completes at finalize), so each failure stands on its own: a dead
    // required job would fail the entity and cancel the others.
    await gallery([
      { processor: 'crash', maxAttempts: 1, required: false },
      { processor: 'slow', maxAttempts: 1, required: false },
      { processor: 'ghost', maxAttempts: 1, required: false },
    ]);
    const { backend, entityId } = await uploadPhoto();
    const crash = defineProcessor({
      name: 'crash',
      run: async () => {
        throw new TypeError('decoder exploded');
      },
    });
    const slow = defineProcessor({
      name: 'slow',
      timeoutMs: 20,
      run: ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    const ghost = defineProcessor({
      name: 'ghost',
      run: async ({ job }) => ({
        artifacts: [
          {
            variant: 'nothing',
            bucketId: job.bucketId,
            objectPath: `${job.objectPath}.nothing`,
            size: 3,
            contentType: 'image/png',
            sha256: 'b'.repeat(64),
          },
        ],
      }),
    });
    const report = await work(backend, [crash, slow, ghost]);
    expect(report).toMatchObject({ claimed: 3, completed: 0, failed: 3, lost: 0 });
    const { rows } = await as(db, service, (tx) =>
      tx.query<{ processor: string; status: string; last_error: { name: string; message: string } }>(
        `select processor, status::text, last_error from upload_lifecycle.jobs where entity_id = $1 order by processor`,
        [entityId],
      ),
    );
    expect(rows.map((r) => [r.processor, r.status, r.last_error.name])).toEqual([
      ['crash', 'dead', 'TypeError'],
      ['ghost', 'dead', 'InvalidFileError'],
      ['slow', 'dead', 'TimeoutError'],
    ]);
    expect(rows[1]!.last_error.message).toMatch(/no object at/);
    // Optional jobs: their failure is the job's, not the entity's.
    expect((await backend.getUploadState(entityId)).status).toBe('completed');
  });

  it('thumbnailProcessor (sharp): a real 640×480 PNG gets a WebP variant fitted in 64×64; the owner sees the variant; bytes that are no image kill only the optional job', async () => {
    await gallery([{ processor: 'type' }, { processor: 'thumbnail', required: false, maxAttempts: 2 }]);
    const photo = new Uint8Array(
      await sharp({ create: { width: 640, height: 480, channels: 3, background: '#33aa77' } })
        .png()
        .toBuffer(),
    );
    const { backend, entityId, finalized } = await uploadPhoto({ size: photo.length }, photo);
    expect(finalized.status).toBe('processing');
    const processors = [typeProcessor, thumbnailProcessor({ width: 64, height: 64 })];
    expect(await work(backend, processors)).toMatchObject({ completed: 2, failed: 0, lost: 0 });
    const state = await backend.getUploadState(entityId);
    expect(state.status).toBe('completed');
    const job = state.jobs.find((j) => j.processor === 'thumbnail')!;
    expect(job.status).toBe('complete');
    expect(job.required).toBe(false);
    expect(job.artifacts).toHaveLength(1);
    const artifact = job.artifacts[0]!;
    expect(artifact).toMatchObject({ variant: 'thumbnail', contentType: 'image/webp' });
    // The stored variant is a real WebP of the fitted size (aspect ratio kept: 64 × 48).
    const stored = backend.objects.get(`${artifact.bucketId}/${artifact.objectPath}`)!;
    expect(stored.length).toBe(artifact.size);
    expect(await sharp(stored).metadata()).toMatchObject({ format: 'webp', width: 64, height: 48 });
    expect(hex(stored)).toBe(artifact.sha256);

    // Bytes that are no image (declared image/png; the type processor is not configured this time):
    // the thumbnail job is dead at once (a rejection, not retried), and the entity completes anyway.
    await resetDb(db);
    userId = await createUser(db);
    await gallery([{ processor: 'thumbnail', required: false, maxAttempts: 3 }]);
    const garbage = new Uint8Array(500).fill(7);
    const second = await uploadPhoto({ size: garbage.length }, garbage);
    expect(second.finalized.status).toBe('completed');
    expect(await work(second.backend, processors)).toMatchObject({ claimed: 1, completed: 0, failed: 1 });
    const after = await second.backend.getUploadState(second.entityId);
    expect(after.status).toBe('completed');
    expect(after.jobs).toEqual([
      expect.objectContaining({ processor: 'thumbnail', status: 'dead', attempt: 1, artifacts: [] }),
    ]);
    expect(JSON.stringify(after.jobs[0]!.lastError)).toContain('ProcessingRejectedError');
  });

  it('a signed-in user cannot claim jobs (42501)', async () => {
    await gallery([{ processor: 'sha256' }]);
    await uploadPhoto();
    const asUser = as(db, { role: 'authenticated', userId }, (tx) =>
      tx.query(`select * from public.claim_upload_jobs('me', 1, 60, null)`),
    );
    await expect(asUser).rejects.toMatchObject({ code: '42501' });
  });
});

/**
 * The embedded backend against the real migrations: the upload machine drives the RPCs as the
 * signed-in user, and the storage policies gate every object.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, waitFor } from 'xstate';
import { createPgliteBackend } from '../../src/adapters/pglite.js';
import { isStorageTransferError, networkError, type Backend } from '../../src/adapters/backend.js';
import { InvalidFileError, NotAcceptingError, EntityNotFoundError } from '../../src/errors.js';
import { createUploadMachine } from '../../src/machines/upload.js';
import { persistUpload, selectPhase } from '../../src/machines/upload-selectors.js';
import { createPgliteDb, createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind, eventsOf, statusOfRow } from '../support/fixtures.js';

let db: TestDb;
let userId: string;
beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(() => db.close());
beforeEach(async () => {
  await resetDb(db);
  userId = await createUser(db);
  await defineKind(db);
});

const pdf = (size = 1000) => new Uint8Array(size).fill(1);
const png = (size = 500) => new Uint8Array(size).fill(2);
const RETRY = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 };

function run(backend: Backend, input: Record<string, unknown> = {}) {
  const clock = new SimulatedClock();
  const machine = createUploadMachine({ backend, random: () => 0.5 });
  const actor = createActor(machine, { clock, input: { kind: 'report', retry: RETRY, ...input } }).start();
  return { actor, clock, machine };
}

describe('createPgliteBackend', { timeout: 30_000 }, () => {
  it('completes an upload through the real RPCs, with one audit event per transition', async () => {
    const backend = createPgliteBackend(db, { userId });
    const { actor } = run(backend);
    actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'document', body: pdf(), name: 'report.pdf', type: 'application/pdf' },
        { slot: 'photos', body: png(), name: 'a.png', type: 'image/png' },
      ],
    });
    actor.send({ type: 'CREATE', metadata: { title: 'Q3' } });
    await waitFor(actor, (s) => selectPhase(s) === 'draft');
    actor.send({ type: 'START' });
    const done = await waitFor(actor, (s) => s.matches('completed'));
    const entityId = done.context.entityId!;

    expect(await statusOfRow(db, entityId)).toBe('completed');
    expect((await eventsOf(db, entityId)).map((e) => `${e.from_status ?? '-'}→${e.to_status}`)).toEqual([
      '-→draft',
      'draft→uploading',
      'uploading→completed',
    ]);
    const object = done.context.files[0]!;
    expect(backend.objects.get(`${object.bucketId}/${object.objectPath}`)).toEqual(pdf());
    const { rows } = await db.query<{ owner_id: string }>('select owner_id from storage.objects');
    expect(rows.map((r) => r.owner_id)).toEqual([userId, userId]);
  });

  it('an object stored with the wrong size is replaced (upsert) after finalize refuses it, then completes', async () => {
    const real = createPgliteBackend(db, { userId });
    const transfers: { size: number; upsert: boolean }[] = [];
    const backend = {
      ...real,
      async uploadObject(transfer) {
        transfers.push({ size: transfer.size, upsert: transfer.upsert === true });
        if (transfers.length === 1) {
          // The first transfer is corrupted on the way: Storage keeps fewer bytes than declared.
          const short = (transfer.body as Uint8Array).subarray(0, 10);
          return real.uploadObject({ ...transfer, body: short, size: short.length });
        }
        return real.uploadObject(transfer);
      },
    } satisfies Backend;
    const { actor, clock } = run(backend);
    actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body: pdf(), name: 'r.pdf', type: 'application/pdf' }],
    });
    actor.send({ type: 'CREATE' });
    await waitFor(actor, (s) => selectPhase(s) === 'draft');
    actor.send({ type: 'START' });
    const tick = setInterval(() => clock.increment(RETRY.maxDelayMs), 5);
    try {
      const done = await waitFor(actor, (s) => s.matches('completed') || s.context.halted);
      expect(done.value).toBe('completed');
    } finally {
      clearInterval(tick);
    }
    // The second transfer replaced the short object instead of being answered "already exists".
    expect(transfers).toEqual([
      { size: 1000, upsert: false },
      { size: 1000, upsert: true },
    ]);
    const { rows } = await db.query<{ size: string }>(
      `select metadata->>'size' as size from storage.objects`,
    );
    expect(rows).toEqual([{ size: '1000' }]);
  });

  it('a lost finalize answer is retried: completed once, one finalize audit event', async () => {
    const real = createPgliteBackend(db, { userId });
    let lost = 0;
    const backend = {
      ...real,
      async finalizeUpload(entityId: string) {
        const state = await real.finalizeUpload(entityId); // committed…
        if (lost++ === 0) throw networkError(new Error('socket hang up')); // …but the answer is lost
        return state;
      },
    } satisfies Backend;
    const { actor, clock } = run(backend);
    actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body: pdf(), name: 'r.pdf', type: 'application/pdf' }],
    });
    actor.send({ type: 'CREATE' });
    await waitFor(actor, (s) => selectPhase(s) === 'draft');
    actor.send({ type: 'START' });
    await waitFor(actor, (s) => s.matches({ finalizing: 'backoff' }));
    clock.increment(1000);
    const done = await waitFor(actor, (s) => s.matches('completed'));

    const events = await eventsOf(db, done.context.entityId!);
    expect(events.filter((e) => e.to_status === 'completed')).toHaveLength(1);
    expect(lost).toBe(2);
  });

  it('refuses bad input with the same error class as the database', async () => {
    const backend = createPgliteBackend(db, { userId });
    const draft = await backend.createDraft({ kind: 'report' });
    await backend.beginUpload(draft.entityId);
    const fromDatabase = await backend
      .registerFile(draft.entityId, {
        slot: 'document',
        filename: 'big.pdf',
        size: 10_001,
        mime: 'application/pdf',
      })
      .catch((e: unknown) => e);
    expect(fromDatabase).toBeInstanceOf(InvalidFileError);

    const { actor } = run(backend, { requirements: draft.requirements });
    actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body: pdf(10_001), name: 'big.pdf', type: 'application/pdf' }],
    });
    expect(actor.getSnapshot().context.error).toMatchObject({ name: 'InvalidFileError', code: 'UL004' });
    expect(actor.getSnapshot().context.files).toEqual([]);
  });

  it('maps a storage policy refusal and another user’s entity to typed errors', async () => {
    const backend = createPgliteBackend(db, { userId });
    const draft = await backend.createDraft({ kind: 'report' });
    const refused = await backend
      .uploadObject({
        bucketId: 'report-files',
        objectPath: `${userId}/${draft.entityId}/not-registered`,
        body: pdf(),
        contentType: 'application/pdf',
        size: 1000,
        signal: new AbortController().signal,
      })
      .catch((e: unknown) => e);
    expect(isStorageTransferError(refused) && refused.storageCode).toBe('AccessDenied');

    const stranger = createPgliteBackend(db, { userId: await createUser(db) });
    await expect(stranger.getUploadState(draft.entityId)).rejects.toBeInstanceOf(EntityNotFoundError);
    await expect(backend.finalizeUpload(draft.entityId)).rejects.toSatisfy(
      (e) => e instanceof NotAcceptingError || (e as { code?: string }).code === 'UL001',
    );
  });

  it('a persisted snapshot resumes after a reload and uploads only the missing object', async () => {
    const real = createPgliteBackend(db, { userId });
    const sent: string[] = [];
    let stall: (() => void) | undefined;
    const backend = {
      ...real,
      async uploadObject(transfer) {
        sent.push(transfer.objectPath);
        if (transfer.contentType === 'image/png' && sent.length <= 2) {
          // The photo never finishes before the page goes away.
          await new Promise<void>((_, reject) => {
            stall = () => reject(new Error('unreachable'));
            transfer.signal.addEventListener('abort', () => reject(new Error('aborted')));
          });
        }
        return real.uploadObject(transfer);
      },
    } satisfies Backend;
    const first = run(backend, { concurrency: 2 });
    const photo = png();
    first.actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'document', body: pdf(), name: 'r.pdf', type: 'application/pdf' },
        { slot: 'photos', body: photo, name: 'a.png', type: 'image/png' },
      ],
    });
    first.actor.send({ type: 'CREATE' });
    await waitFor(first.actor, (s) => selectPhase(s) === 'draft');
    first.actor.send({ type: 'START' });
    await waitFor(
      first.actor,
      (s) => s.context.files[0]!.status === 'uploaded' && s.context.files[1]!.fileId !== null,
    );
    const stored = JSON.stringify(persistUpload(first.actor.getPersistedSnapshot()));
    first.actor.stop();
    expect(stall).toBeDefined();

    const second = createActor(first.machine, { snapshot: JSON.parse(stored), input: {} }).start();
    second.send({ type: 'RESUME', sources: { f2: photo } });
    const done = await waitFor(second, (s) => s.matches('completed'));
    expect(done.value).toBe('completed');
    expect(sent).toHaveLength(3); // document once, photo twice (stalled, then resumed); the document was not re-sent
    expect(sent.filter((p) => p === done.context.files[0]!.objectPath)).toHaveLength(1);
    expect(await statusOfRow(db, done.context.entityId!)).toBe('completed');
  });
});

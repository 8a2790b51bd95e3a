/**
 * The upload machine and `processing` (issue 15), on PGlite with the real migrations: finalize
 * answers `processing` for a kind with required processors, the machine watches the entity, and
 * only the database (a worker's job ending) moves it to `completed` or `failed`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { createPgliteBackend } from '../../src/adapters/pglite.js';
import type { UploadState } from '../../src/core/port.js';
import { deserializeError } from '../../src/core/error-data.js';
import { ProcessingFailedError } from '../../src/errors.js';
import { createUploadMachine } from '../../src/machines/upload.js';
import { USER_EVENT_POLICY, USER_EVENT_TYPES, type UserEvent } from '../../src/machines/upload-events.js';
import {
  persistUpload,
  selectDatabaseStatus,
  selectIsBusy,
  selectJobs,
  selectPhase,
  type UploadSnapshot,
} from '../../src/machines/upload-selectors.js';
import {
  defineProcessor,
  runWorker,
  sha256Processor,
  sqlProcessingPort,
  typeProcessor,
} from '../../src/workers/index.js';
import { createPgliteDb, createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind, eventsOf, statusOfRow, type ProcessorFixture } from '../support/fixtures.js';

let db: TestDb;
let userId: string;
beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(() => db.close());
beforeEach(async () => {
  await resetDb(db);
  userId = await createUser(db);
});

/** Not a PDF: the `type` processor rejects it as application/pdf. */
const notPdf = (size = 1000) => new Uint8Array(size).fill(1);
/** Starts with the PDF signature. */
const pdf = () =>
  new Uint8Array([...new TextEncoder().encode('%PDF-1.4\n'), ...new Uint8Array(200).fill(32)]);

async function setup(processors: ProcessorFixture[]) {
  await defineKind(db, {
    requirements: [
      { slot: 'document', minCount: 1, maxCount: 1, maxBytes: 10_000, allowedMimeTypes: ['application/pdf'] },
    ],
    processors,
  });
  const backend = createPgliteBackend(db, { userId });
  const machine = createUploadMachine({ backend, random: () => 0.5, watchIntervalsMs: [5, 10, 20] });
  const worker = () =>
    runWorker({
      port: sqlProcessingPort(db, backend.objects),
      processors: [sha256Processor, typeProcessor],
      untilIdle: true,
    }).done;
  return { backend, machine, worker };
}

const phase = (p: string) => (s: UploadSnapshot) => selectPhase(s) === p;

async function toProcessing(machine: ReturnType<typeof createUploadMachine>, body: Uint8Array) {
  const actor = createActor(machine, { input: { kind: 'report' } }).start();
  const seen: string[] = [];
  actor.subscribe((s) => {
    if (seen.at(-1) !== selectPhase(s)) seen.push(selectPhase(s));
  });
  actor.send({
    type: 'ADD_FILES',
    files: [{ slot: 'document', body, name: 'report.pdf', type: 'application/pdf', key: 'doc' }],
  });
  actor.send({ type: 'START' });
  const processing = await waitFor(actor, phase('processing'), { timeout: 10_000 });
  return { actor, seen, processing };
}

describe('upload machine: processing (PGlite)', { timeout: 30_000 }, () => {
  it('START → processing with the jobs pending → a worker runs them → completed, on the database word', async () => {
    const { machine, worker } = await setup([{ processor: 'sha256', required: true }]);
    const { actor, seen, processing } = await toProcessing(machine, pdf());
    const entityId = processing.context.entityId!;

    expect(selectDatabaseStatus(processing)).toBe('processing');
    expect(processing.context.status).toBe('processing');
    expect(selectIsBusy(processing)).toBe(true);
    expect(selectJobs(processing)).toEqual({
      doc: [
        expect.objectContaining({ processor: 'sha256', status: 'pending', required: true, lastError: null }),
      ],
    });
    // No worker yet: the watcher keeps polling, the machine stays processing.
    await new Promise((r) => setTimeout(r, 60));
    expect(selectPhase(actor.getSnapshot())).toBe('processing');
    expect(await statusOfRow(db, entityId)).toBe('processing');

    await worker();
    const done = await waitFor(actor, phase('completed'), { timeout: 10_000 });
    expect(seen).toEqual(['idle', 'creating', 'uploading', 'finalizing', 'processing', 'completed']);
    expect(done.context.error).toBeNull();
    expect(done.context.status).toBe('completed');
    expect(selectJobs(done)).toEqual({
      doc: [expect.objectContaining({ processor: 'sha256', status: 'complete', required: true })],
    });
    expect(await statusOfRow(db, entityId)).toBe('completed');
    expect((await eventsOf(db, entityId)).map((e) => `${e.from_status ?? '-'}→${e.to_status}`)).toEqual([
      '-→draft',
      'draft→uploading',
      'uploading→processing',
      'processing→completed',
    ]);
    actor.stop();
  });

  it('a required processor rejects the file → failed, with the database reason as a typed error; RETRY starts a new attempt', async () => {
    const { machine, worker } = await setup([{ processor: 'type', required: true, maxAttempts: 1 }]);
    const { actor } = await toProcessing(machine, notPdf());
    const fileId = actor.getSnapshot().context.files[0]!.fileId!;

    await worker();
    const failed = await waitFor(actor, phase('failed'), { timeout: 10_000 });
    const reason = failed.context.failureReason!;
    expect(reason).toContain('type');
    expect(reason).toContain(fileId);
    expect(failed.context.error).toMatchObject({ name: 'ProcessingFailedError', code: 'UL000' });
    expect(failed.context.error!.message).toContain(reason);
    expect(deserializeError(failed.context.error!)).toBeInstanceOf(ProcessingFailedError);
    const jobs = selectJobs(failed).doc!;
    expect(jobs).toHaveLength(1);
    expect(['failed', 'dead']).toContain(jobs[0]!.status);
    expect(jobs[0]!.lastError).not.toBeNull();
    expect(await statusOfRow(db, failed.context.entityId!)).toBe('failed');

    // failed is the ordinary failed state: RETRY is a new attempt (the bytes are still here).
    actor.send({ type: 'RETRY' });
    const again = await waitFor(actor, (s) => s.context.attempt === 2 && selectPhase(s) !== 'retrying', {
      timeout: 10_000,
    });
    expect(['uploading', 'finalizing', 'processing']).toContain(selectPhase(again));
    actor.stop();
  });

  it('an upload that processing failed while nobody watched: a new actor with { entityId } loads it failed with the same ProcessingFailedError', async () => {
    const { machine, worker } = await setup([{ processor: 'type', required: true, maxAttempts: 1 }]);
    const first = await toProcessing(machine, notPdf());
    const entityId = first.processing.context.entityId!;
    first.actor.stop();
    await worker();
    expect(await statusOfRow(db, entityId)).toBe('failed');

    const second = createActor(machine, { input: { entityId } }).start();
    const failed = await waitFor(second, phase('failed'), { timeout: 10_000 });
    expect(failed.context.error).toMatchObject({ name: 'ProcessingFailedError', code: 'UL000' });
    expect(failed.context.error!.message).toContain(failed.context.failureReason!);
    expect(failed.context.error!.detail).toContain('type dead');
    expect(deserializeError(failed.context.error!)).toBeInstanceOf(ProcessingFailedError);
    second.stop();
  });

  it('completed with an optional variant still to run: the machine watches on until it ends, and selectJobs shows its artifact', async () => {
    const { backend, machine } = await setup([
      { processor: 'sha256', required: true },
      { processor: 'variant', required: false },
    ]);
    const { actor } = await toProcessing(machine, pdf());
    const port = sqlProcessingPort(db, backend.objects);
    // A worker for the required check only: the entity completes, the variant is still pending.
    await runWorker({ port, processors: [sha256Processor], untilIdle: true }).done;
    const completed = await waitFor(actor, phase('completed'), { timeout: 10_000 });
    expect(completed.value).toBe('completed');
    expect(selectDatabaseStatus(completed)).toBe('completed');
    expect(selectIsBusy(completed)).toBe(false);
    expect(selectJobs(completed).doc!.find((j) => j.processor === 'variant')).toMatchObject({
      status: 'pending',
      required: false,
      artifacts: [],
    });

    const variant = defineProcessor({
      name: 'variant',
      required: false,
      run: async ({ putArtifact }) => ({
        artifacts: [
          await putArtifact('small', new TextEncoder().encode('%PDF-1.4 small'), 'application/pdf'),
        ],
      }),
    });
    await runWorker({ port, processors: [variant], untilIdle: true }).done;
    const settled = await waitFor(
      actor,
      (s) => selectJobs(s).doc!.some((j) => j.processor === 'variant' && j.status === 'complete'),
      { timeout: 10_000 },
    );
    expect(settled.value).toBe('completed');
    const job = selectJobs(settled).doc!.find((j) => j.processor === 'variant')!;
    expect(job.status).toBe('complete');
    expect(job.artifacts).toEqual([
      expect.objectContaining({ variant: 'small', contentType: 'application/pdf', size: 14 }),
    ]);
    expect(settled.context.error).toBeNull();
    actor.stop();
  });

  it('a reload while processing: a new actor with { entityId } loads it and watches again', async () => {
    const { machine, worker } = await setup([{ processor: 'sha256', required: true }]);
    const first = await toProcessing(machine, pdf());
    const entityId = first.processing.context.entityId!;
    first.actor.stop();

    const second = createActor(machine, { input: { entityId } }).start();
    const resumed = await waitFor(second, phase('processing'), { timeout: 10_000 });
    expect(selectJobs(resumed)).toEqual({ doc: [expect.objectContaining({ status: 'pending' })] });

    await worker();
    const done = await waitFor(second, phase('completed'), { timeout: 10_000 });
    expect(done.context.status).toBe('completed');
    second.stop();
  });

  it('persistUpload of a processing upload restores processing: the watch starts again, no RESUME needed', async () => {
    const { machine, worker } = await setup([{ processor: 'sha256', required: true }]);
    const first = await toProcessing(machine, pdf());
    const persisted = JSON.parse(JSON.stringify(persistUpload(first.actor.getPersistedSnapshot())));
    first.actor.stop();

    const restored = createActor(machine, { snapshot: persisted, input: {} }).start();
    expect(selectPhase(restored.getSnapshot())).toBe('processing');
    expect(restored.getSnapshot().context.files.map((f) => f.status)).toEqual(['uploaded']);
    expect(selectJobs(restored.getSnapshot())).toEqual({
      doc: [expect.objectContaining({ status: 'pending' })],
    });
    await worker();
    const done = await waitFor(restored, phase('completed'), { timeout: 10_000 });
    expect(selectJobs(done)).toEqual({ doc: [expect.objectContaining({ status: 'complete' })] });
    restored.stop();
  });

  it('every user event while processing is handled or refused as USER_EVENT_POLICY says', async () => {
    const { machine } = await setup([{ processor: 'sha256', required: true }]);
    const { actor } = await toProcessing(machine, pdf());
    const events: Record<(typeof USER_EVENT_TYPES)[number], UserEvent> = {
      CREATE: { type: 'CREATE', kind: 'report' },
      ADD_FILES: { type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'b.pdf' }] },
      REMOVE_FILE: { type: 'REMOVE_FILE', key: 'doc' },
      START: { type: 'START' },
      CANCEL: { type: 'CANCEL' },
      DISCARD: { type: 'DISCARD' },
      RETRY: { type: 'RETRY' },
      RETRY_FILE: { type: 'RETRY_FILE', key: 'doc' },
      FINALIZE: { type: 'FINALIZE' },
      RESUME: { type: 'RESUME' },
    };
    const refused = USER_EVENT_TYPES.filter((t) => USER_EVENT_POLICY.processing[t] === 'refuse');
    expect(refused).toEqual([
      'CREATE',
      'ADD_FILES',
      'REMOVE_FILE',
      'START',
      'CANCEL',
      'RETRY',
      'RETRY_FILE',
      'FINALIZE',
    ]);
    for (const type of refused) {
      const before = actor.getSnapshot();
      actor.send(events[type]);
      const after = actor.getSnapshot();
      expect(selectPhase(after), type).toBe('processing');
      expect(after.context.error, type).toMatchObject({
        name: 'NotAcceptingError',
        code: 'UL005',
        message: expect.stringContaining(`${type} is not accepted while processing`),
      });
      expect(after.context.files, type).toEqual(before.context.files);
    }
    // RESUME is handled: nothing to attach, the watch goes on.
    actor.send(events.RESUME);
    expect(selectPhase(actor.getSnapshot())).toBe('processing');

    // DISCARD: delete_upload accepts a processing entity (it refuses completed only).
    const entityId = actor.getSnapshot().context.entityId!;
    actor.send(events.DISCARD);
    await waitFor(actor, phase('discarded'), { timeout: 10_000 });
    expect(await statusOfRow(db, entityId)).toBeUndefined();
    actor.stop();
  });

  it('a custom backend.watchUpload replaces polling (a Realtime-based watcher plugs in here)', async () => {
    const { backend, worker } = await setup([{ processor: 'sha256', required: true }]);
    const reported: string[] = [];
    const watchUpload = async (
      entityId: string,
      onState: (state: UploadState) => void,
      options?: { signal?: AbortSignal },
    ): Promise<UploadState> => {
      // A push-based watcher would subscribe; this one is told when the worker is done.
      await worker();
      const state = await backend.getUploadState(entityId);
      if (options?.signal?.aborted) throw options.signal.reason as Error;
      reported.push(state.status);
      onState(state);
      return state;
    };
    const machine = createUploadMachine({ backend: { ...backend, watchUpload }, random: () => 0.5 });
    const actor = createActor(machine, { input: { kind: 'report' } }).start();
    actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body: pdf(), name: 'r.pdf', type: 'application/pdf' }],
    });
    actor.send({ type: 'START' });
    const done = await waitFor(actor, phase('completed'), { timeout: 10_000 });
    expect(reported).toEqual(['completed']);
    expect(done.context.status).toBe('completed');
    actor.stop();
  });
});

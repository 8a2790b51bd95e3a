/**
 * The upload machine against a fake Backend: orchestration rules, independent of any database.
 * Time is a SimulatedClock: backoff delays pass only when the test says so.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, waitFor } from 'xstate';
import { createUploadMachine, type UploadInput } from '../../src/machines/upload.js';
import {
  persistUpload,
  selectDatabaseStatus,
  selectIsBusy,
  selectPhase,
  selectProgress,
  type UploadSnapshot,
} from '../../src/machines/upload-selectors.js';
import { backoffDelay, DEFAULT_RETRY } from '../../src/machines/upload-retry.js';
import { bytesOf } from '../../src/machines/upload-actors.js';
import { networkError, StorageTransferError } from '../../src/adapters/backend.js';
import { createFakeBackend, REQUIREMENTS, type FakeBackend } from './fake-backend.js';

const pdf = (size = 100) => new Blob([new Uint8Array(size)], { type: 'application/pdf' });
const png = (size = 100) => new Blob([new Uint8Array(size)], { type: 'image/png' });
const fixedRandom = () => 0.5;

function start(fake: FakeBackend, input: UploadInput = {}) {
  const clock = new SimulatedClock();
  const machine = createUploadMachine({
    backend: fake.backend,
    random: fixedRandom,
    generateId: () => 'key-1',
  });
  const actor = createActor(machine, {
    clock,
    input: {
      kind: 'report',
      retry: { attempts: 3, baseDelayMs: 1000, maxDelayMs: 8000, factor: 2, jitter: 0.5 },
      ...input,
    },
  });
  const phases: string[] = [];
  actor.subscribe((s) => {
    const phase = selectPhase(s);
    if (phases.at(-1) !== phase) phases.push(phase);
  });
  actor.start();
  return { actor, clock, machine, phases };
}

const inPhase = (phase: string) => (s: UploadSnapshot) => selectPhase(s) === phase;

/** ADD_FILES with a PDF document and a PNG photo, then START. */
function addTwoFilesAndStart(actor: ReturnType<typeof start>['actor']) {
  actor.send({
    type: 'ADD_FILES',
    files: [
      { slot: 'document', body: pdf(), name: 'a.pdf' },
      { slot: 'photos', body: png(), name: 'p.png' },
    ],
  });
  actor.send({ type: 'START' });
}

async function toDraft(fake: FakeBackend, input: UploadInput = {}) {
  const ctx = start(fake, input);
  ctx.actor.send({ type: 'CREATE', metadata: { title: 'Q3' } });
  await waitFor(ctx.actor, inPhase('draft'));
  return ctx;
}

describe('upload machine', { timeout: 10_000 }, () => {
  it('goes idle → creating → draft → starting → uploading → finalizing → completed on the database answers', async () => {
    const fake = createFakeBackend();
    const { actor, phases } = await toDraft(fake);
    addTwoFilesAndStart(actor);
    const done = await waitFor(actor, (s) => selectPhase(s) === 'completed');

    expect(phases).toEqual(['idle', 'creating', 'draft', 'starting', 'uploading', 'finalizing', 'completed']);
    expect(selectDatabaseStatus(done)).toBe('completed');
    expect(selectProgress(done)).toMatchObject({
      bytesSent: 200,
      bytesTotal: 200,
      fraction: 1,
      filesUploaded: 2,
    });
    expect(done.context.entityId).toBe('e1');
    expect(done.context.error).toBeNull();
    expect(fake.entities.get('e1')!.transitions).toEqual([
      '->draft:create',
      'draft->uploading:begin_upload',
      'uploading->completed:finalize',
    ]);
  });

  it('does not abort a transfer that already answered when its actor stops, and lets go of the bytes once completed', async () => {
    const fake = createFakeBackend();
    const signals: AbortSignal[] = [];
    const upload = fake.backend.uploadObject;
    fake.backend.uploadObject = (transfer) => {
      signals.push(transfer.signal);
      return upload(transfer);
    };
    const { actor } = await toDraft(fake);
    addTwoFilesAndStart(actor);
    await waitFor(actor, (s) => selectPhase(s) === 'completed');
    // Completed: the machine holds none of the files' bytes any more.
    expect(bytesOf(actor.system).size).toBe(0);
    actor.stop();
    expect(signals).toHaveLength(2);
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
  });

  it('enters completed only when finalize_upload answers completed', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    fake.fail(
      'finalizeUpload',
      new (await import('../../src/errors.js')).NotAcceptingError({ message: 'failed meanwhile' }),
    );
    actor.send({ type: 'START' });
    // finalize refused → the machine re-reads the row instead of assuming anything
    await waitFor(actor, (s) => fake.count('getUploadState') === 1 && selectPhase(s) !== 'loading');
    expect(selectPhase(actor.getSnapshot())).not.toBe('completed');
    expect(fake.count('finalizeUpload')).toBe(1);
  });

  it('refuses a file over the size limit, of a type not allowed, or one too many before any byte, with InvalidFileError', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);

    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(10_001), name: 'big.pdf' }] });
    expect(actor.getSnapshot().context.error).toMatchObject({ name: 'InvalidFileError', code: 'UL004' });
    expect(actor.getSnapshot().context.error!.message).toMatch(/too large/);

    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: png(), name: 'x.png' }] });
    expect(actor.getSnapshot().context.error!.message).toMatch(/not allowed/);

    expect(actor.getSnapshot().context.files).toEqual([]);
    actor.send({ type: 'START' });
    expect(actor.getSnapshot().context.error!.message).toMatch(/needs at least 1/);

    actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'document', body: pdf(), name: 'a.pdf' },
        { slot: 'document', body: pdf(), name: 'b.pdf' },
      ],
    });
    // Each file on its own: the good one is in, the one too many is refused by name.
    expect(actor.getSnapshot().context.error!.message).toMatch(/^b\.pdf: too many files in slot document/);
    expect(actor.getSnapshot().context.files.map((f) => f.name)).toEqual(['a.pdf']);
    expect(selectPhase(actor.getSnapshot())).toBe('draft');
    expect(fake.count('uploadObject') + fake.count('startUpload') + fake.count('beginUpload')).toBe(0);
  });

  it('validates files added before the draft existed once the requirements arrive', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'photos', body: png(6000), name: 'huge.png' }] });
    actor.send({ type: 'CREATE' });
    await waitFor(actor, inPhase('draft'));
    const checked = actor.getSnapshot().context;
    expect(checked.error).toMatchObject({
      code: 'UL004',
      message: expect.stringMatching(/^huge\.png: file too large/),
    });
    expect(checked.files[0]).toMatchObject({ status: 'error', error: { code: 'UL004' } });
    actor.send({ type: 'START' });
    expect(selectPhase(actor.getSnapshot())).toBe('draft');
    expect(fake.count('startUpload')).toBe(0);
  });

  it('runs at most `concurrency` files at once', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const { actor } = await toDraft(fake, { concurrency: 2 });
    actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'document', body: pdf(), name: 'a.pdf' },
        ...[1, 2, 3, 4].map((i) => ({ slot: 'photos', body: png(), name: `p${i}.png` })),
      ],
    });
    actor.send({ type: 'START' });
    await fake.stalled(2);
    expect(actor.getSnapshot().context.files.filter((f) => f.status === 'queued')).toHaveLength(3);
    expect(Object.keys(actor.getSnapshot().children).filter((id) => id.startsWith('transfer:'))).toHaveLength(
      2,
    );
    while (fake.pending.length > 0 || selectPhase(actor.getSnapshot()) === 'uploading') {
      const next = fake.pending.shift();
      if (next) next.finish();
      await new Promise((r) => setImmediate(r));
    }
    expect(selectPhase(actor.getSnapshot())).toBe('completed');
    expect(fake.maxInFlight).toBe(2);
    expect(fake.count('uploadObject')).toBe(5);
  });

  it('retries a transient transfer failure after an exponential backoff with jitter', async () => {
    const fake = createFakeBackend();
    const { actor, clock } = await toDraft(fake);
    fake.fail('uploadObject', networkError(new Error('ECONNRESET')), 2);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'START' });

    const policy = actor.getSnapshot().context.options.retry;
    const first = backoffDelay(1, policy, fixedRandom); // 750
    const second = backoffDelay(2, policy, fixedRandom); // 1500
    expect([first, second]).toEqual([750, 1500]);

    await waitFor(actor, (s) => s.context.files[0]!.status === 'retrying');
    clock.increment(first - 1);
    expect(fake.count('uploadObject')).toBe(1);
    clock.increment(1);
    await waitFor(
      actor,
      (s) => s.context.files[0]!.status === 'retrying' && s.context.files[0]!.failures === 2,
    );
    expect(fake.count('uploadObject')).toBe(2);
    clock.increment(second);
    await waitFor(actor, (s) => selectPhase(s) === 'completed');
    expect(fake.count('uploadObject')).toBe(3);
  });

  it('a file failing `attempts` times ends in failed; RETRY starts a new attempt that completes', async () => {
    const fake = createFakeBackend();
    const { actor, clock } = await toDraft(fake);
    fake.fail('uploadObject', networkError(new Error('ECONNRESET')), 3);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'START' });
    for (let i = 1; i < 3; i++) {
      await waitFor(actor, (s) => s.context.files[0]!.failures === i);
      clock.increment(10_000);
    }
    const failed = await waitFor(actor, inPhase('failed'));
    expect(selectDatabaseStatus(failed)).toBe('failed');
    expect(failed.context.files[0]).toMatchObject({ status: 'error', failures: 3 });
    expect(fake.entities.get('e1')!.state.failureReason).toBe('client_error');

    actor.send({ type: 'RETRY' });
    await waitFor(actor, (s) => selectPhase(s) === 'completed');
    expect(fake.entities.get('e1')!.transitions.slice(-3)).toEqual([
      'uploading->failed:fail',
      'failed->uploading:retry',
      'uploading->completed:finalize',
    ]);
  });

  it('does not retry a refusal of the database or a storage policy', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);
    fake.fail(
      'uploadObject',
      new StorageTransferError({
        message: 'denied',
        status: 403,
        storageCode: 'AccessDenied',
        retryable: false,
      }),
    );
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'START' });
    const failed = await waitFor(actor, inPhase('failed'));
    expect(failed.context.files[0]!.failures).toBe(1);
    expect(fake.count('uploadObject')).toBe(1);
  });

  it('CANCEL aborts the transfers in flight and leaves the entity recoverable', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const { actor } = await toDraft(fake);
    addTwoFilesAndStart(actor);
    await fake.stalled(2);
    const signals = fake.pending.map((p) => p.transfer.signal);

    actor.send({ type: 'CANCEL' });
    expect(signals.every((s) => s.aborted)).toBe(true);
    const failed = await waitFor(actor, inPhase('failed'));
    expect(fake.entities.get('e1')!.state.failureReason).toBe('cancelled');
    expect(failed.context.files.map((f) => f.status)).toEqual(['queued', 'queued']);

    fake.control.stallTransfers = false;
    fake.pending.length = 0;
    actor.send({ type: 'RETRY' });
    await waitFor(actor, (s) => selectPhase(s) === 'completed');
    expect(fake.objects.size).toBe(2);
  });

  it('stopping the actor aborts its transfers', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const { actor } = await toDraft(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'START' });
    await fake.stalled(1);
    actor.stop();
    expect(fake.pending[0]!.transfer.signal.aborted).toBe(true);
  });

  it('a lost finalize answer is retried and completes once', async () => {
    const fake = createFakeBackend();
    const { actor, clock } = await toDraft(fake);
    fake.control.loseNextFinalizeAnswer = true;
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'START' });
    await waitFor(actor, (s) => s.matches({ finalizing: 'backoff' }));
    expect(selectDatabaseStatus(actor.getSnapshot())).toBe('uploading');
    clock.increment(10_000);
    await waitFor(actor, (s) => selectPhase(s) === 'completed');
    expect(fake.count('finalizeUpload')).toBe(2);
    expect(fake.entities.get('e1')!.transitions.filter((t) => t.endsWith(':finalize'))).toHaveLength(1);
  });

  it('RETRY_FILE restarts one failed file while others are still running', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake, { retry: { attempts: 1 } });
    fake.control.stallTransfers = true;
    addTwoFilesAndStart(actor);
    await fake.stalled(2);
    fake.pending.shift()!.fail(networkError(new Error('reset')));
    await waitFor(actor, (s) => s.context.files[0]!.status === 'error');
    fake.control.stallTransfers = false;
    actor.send({ type: 'RETRY_FILE', key: 'f1' });
    await waitFor(actor, (s) => s.context.files[0]!.status === 'uploaded');
    fake.pending.shift()!.finish();
    await waitFor(actor, (s) => selectPhase(s) === 'completed');
    expect(fake.count('uploadObject')).toBe(3);
  });

  it('REMOVE_FILE during uploading stops the file and removes its registration', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const { actor } = await toDraft(fake);
    addTwoFilesAndStart(actor);
    await fake.stalled(2);
    const photo = fake.pending[1]!;
    actor.send({ type: 'REMOVE_FILE', key: 'f2' });
    expect(photo.transfer.signal.aborted).toBe(true);
    await waitFor(actor, () => fake.count('removeFile') === 1);
    fake.pending[0]!.finish();
    await waitFor(actor, (s) => selectPhase(s) === 'completed');
    expect(actor.getSnapshot().context.files.map((f) => f.key)).toEqual(['f1']);
  });

  it('REMOVE_FILE while start_upload is in flight removes the row once it answers; the file is never uploaded', async () => {
    const fake = createFakeBackend();
    const startUpload = fake.backend.startUpload;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    fake.backend.startUpload = async (entityId, files) => {
      await gate;
      return startUpload(entityId, files);
    };
    const { actor } = await toDraft(fake);
    addTwoFilesAndStart(actor);
    expect(selectPhase(actor.getSnapshot())).toBe('starting');
    actor.send({ type: 'REMOVE_FILE', key: 'f2' });
    expect(actor.getSnapshot().context.files.map((f) => f.key)).toEqual(['f1']);
    expect(actor.getSnapshot().context.removals).toEqual([{ key: 'f2', fileId: null }]);
    release();
    const done = await waitFor(actor, (s) => selectPhase(s) === 'completed');
    const stored = fake.entities.get(done.context.entityId!)!.state.files;
    expect(stored.map((f) => f.originalName)).toEqual(['a.pdf']);
    expect(fake.count('removeFile')).toBe(1);
    expect(fake.count('uploadObject')).toBe(1);
  });

  it('CANCEL while start_upload is in flight cancels once it answers: the upload never completes', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const { actor } = await toDraft(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'START' });
    actor.send({ type: 'CANCEL' });
    expect(actor.getSnapshot().context.cancelRequested).toBe(true);
    const failed = await waitFor(actor, inPhase('failed'));
    expect(failed.context.failureReason).toBe('cancelled');
    expect(fake.count('uploadObject')).toBe(0);
  });

  it('a persisted snapshot resumes in a new actor and uploads only what storage lacks', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const first = await toDraft(fake);
    const doc = pdf(300);
    const photo = png(200);
    first.actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'document', body: doc, name: 'a.pdf' },
        { slot: 'photos', body: photo, name: 'p.png' },
      ],
    });
    first.actor.send({ type: 'START' });
    await fake.stalled(2);
    fake.pending[0]!.finish();
    await waitFor(first.actor, (s) => s.context.files[0]!.status === 'uploaded');
    const stored = JSON.stringify(persistUpload(first.actor.getPersistedSnapshot()));
    first.actor.stop(); // the page goes away mid-upload

    fake.control.stallTransfers = false;
    fake.pending.length = 0;
    const bytesBefore = fake.control.bytesReceived;
    const second = createActor(first.machine, {
      snapshot: JSON.parse(stored),
      input: {},
      clock: new SimulatedClock(),
    }).start();
    expect(selectPhase(second.getSnapshot())).toBe('suspended');
    second.send({ type: 'RESUME', sources: { f2: photo } });
    const done = await waitFor(second, (s) => selectPhase(s) === 'completed');
    expect(done.value).toBe('completed');
    expect(fake.control.bytesReceived - bytesBefore).toBe(200);
    expect(fake.count('startUpload')).toBe(1);
    expect(fake.count('registerFiles') + fake.count('registerFile')).toBe(0);
  });

  it('after a reload, a file whose bytes are not re-attached waits instead of failing the entity', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const first = await toDraft(fake);
    const doc = pdf(300);
    first.actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: doc, name: 'a.pdf' }] });
    first.actor.send({ type: 'START' });
    await fake.stalled(1);
    const stored = JSON.stringify(persistUpload(first.actor.getPersistedSnapshot()));
    first.actor.stop();
    fake.control.stallTransfers = false;

    const second = createActor(first.machine, { snapshot: JSON.parse(stored), input: {} }).start();
    second.send({ type: 'RESUME' }); // the user has not picked the file again yet
    // It rests suspended, naming the file that needs its bytes, instead of failing the entity.
    const waiting = await waitFor(
      second,
      (s) => selectPhase(s) === 'suspended' && !selectIsBusy(s) && fake.count('getUploadState') === 1,
    );
    expect(waiting.context.files[0]!.status).toBe('detached');
    expect(waiting.context.error).toMatchObject({
      name: 'MissingSourceError',
      message: expect.stringContaining('a.pdf (f1)'),
    });
    expect(fake.count('uploadObject')).toBe(1);
    expect(fake.entities.get('e1')!.state.status).toBe('uploading');

    second.send({ type: 'RESUME', sources: { f1: doc } });
    const done = await waitFor(second, (s) => selectPhase(s) === 'completed');
    expect(done.value).toBe('completed');
    expect(fake.count('uploadObject')).toBe(2);
  });

  it('resumes an entity by id through loading', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);
    actor.stop();
    const resumed = start(fake, { entityId: 'e1' });
    await waitFor(resumed.actor, inPhase('draft'));
    expect(resumed.phases).toEqual(['loading', 'draft']);
    expect(resumed.actor.getSnapshot().context.requirements).toEqual(REQUIREMENTS);
  });

  it('keeps its snapshot JSON-serializable while uploading', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const { actor } = await toDraft(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'START' });
    await fake.stalled(1);
    const persisted = actor.getPersistedSnapshot() as unknown as {
      children: Record<string, { src: unknown }>;
    };
    expect(JSON.parse(JSON.stringify(persisted))).toEqual(persisted);
    expect(persisted.children['transfer:f1']!.src).toBe('transfer');
  });

  it('backoff grows exponentially, is capped, and jitter stays within its share', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, p, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, p, () => 0)).toBe(200);
  });
});

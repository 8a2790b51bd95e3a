/**
 * Regression tests, one per defect of issue 13 (numbered as there). Each failed on the machine
 * before the redesign; the model-based suite (test/upload/client.property.test.ts) covers the
 * same ground with random sequences.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, waitFor } from 'xstate';
import { createUploadMachine, type UploadInput } from '../../src/machines/upload.js';
import {
  persistUpload,
  selectFilesNeedingSource,
  selectIsBusy,
  selectPhase,
  selectProgress,
  type UploadSnapshot,
} from '../../src/machines/upload-selectors.js';
import { StorageTransferError, networkError } from '../../src/adapters/backend.js';
import { parseUploadState } from '../../src/adapters/upload-state.js';
import { MalformedAnswerError, isUploadLifecycleError } from '../../src/errors.js';
import { createUploadStore } from '../../src/react/upload-store.js';
import { typedError } from '../../src/react/views.js';
import { createFakeBackend, type FakeBackend } from './fake-backend.js';

const pdf = (size = 100) => new Blob([new Uint8Array(size)], { type: 'application/pdf' });
const png = (size = 100) => new Blob([new Uint8Array(size)], { type: 'image/png' });
const text = () => new Blob(['hello'], { type: 'text/plain' });

function start(fake: FakeBackend, input: UploadInput = {}) {
  const clock = new SimulatedClock();
  let n = 0;
  const machine = createUploadMachine({
    backend: fake.backend,
    random: () => 0.5,
    generateId: () => `key-${++n}`,
  });
  const actor = createActor(machine, {
    clock,
    input: {
      kind: 'report',
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 80, factor: 2, jitter: 0 },
      ...input,
    },
  }).start();
  return { actor, clock, machine };
}
const phase = (p: string) => (s: UploadSnapshot) => selectPhase(s) === p;
const settled = (s: UploadSnapshot) => !selectIsBusy(s);

describe('issue 13 defects', { timeout: 10_000 }, () => {
  it('1: a valid CREATE leaves no error (not { code: UL000, message: "null" })', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'CREATE', metadata: { title: 'Q3' } });
    const draft = await waitFor(actor, phase('draft'));
    expect(draft.context.error).toBeNull();
  });

  it('3: a second file with the same key is refused by name; the first is untouched', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf', key: 'doc' }] });
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'photos', body: png(), name: 'p.png', key: 'doc' }] });
    const s = actor.getSnapshot();
    expect(s.context.files.map((f) => f.name)).toEqual(['a.pdf']);
    expect(s.context.error).toMatchObject({ code: 'UL004', message: expect.stringContaining('key doc') });
    actor.send({ type: 'START' });
    const done = await waitFor(actor, phase('completed'));
    expect(fake.entities.get(done.context.entityId!)!.state.files.map((f) => f.key)).toEqual(['doc']);
  });

  it('4: a registration whose answer is lost is repeated harmlessly (same key, same row)', async () => {
    const fake = createFakeBackend();
    const { actor, clock } = start(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    actor.send({ type: 'CREATE' });
    await waitFor(actor, phase('draft'));
    fake.control.stallTransfers = true;
    fake.loseAnswer('startUpload');
    actor.send({ type: 'START' });
    await fake.stalled(1);
    fake.control.stallTransfers = false;
    fake.loseAnswer('registerFiles');
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'photos', body: png(), name: 'p.png' }] });
    await waitFor(actor, (s) => s.matches({ uploading: 'backoff' }));
    clock.increment(1_000);
    fake.pending.shift()!.finish();
    const done = await waitFor(actor, phase('completed'));
    const rows = fake.entities.get(done.context.entityId!)!.state.files;
    expect(rows.map((f) => f.key)).toEqual(['f1', 'f2']);
    expect(fake.count('startUpload')).toBe(1);
    expect(fake.count('registerFiles')).toBe(2);
  });

  it('5: a file removed while registering, then a reload: its row is removed after RESUME and finalize is not blocked', async () => {
    const fake = createFakeBackend();
    const first = start(fake);
    const doc = pdf();
    first.actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: doc, name: 'a.pdf' }] });
    first.actor.send({ type: 'CREATE' });
    await waitFor(first.actor, phase('draft'));
    fake.control.stallTransfers = true;
    first.actor.send({ type: 'START' });
    await fake.stalled(1);
    const startRegistering = fake.backend.registerFiles;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fake.backend.registerFiles = async (id, files) => {
      await gate;
      return startRegistering(id, files);
    };
    first.actor.send({ type: 'ADD_FILES', files: [{ slot: 'photos', body: png(), name: 'p.png' }] });
    await waitFor(first.actor, (s) => s.context.files[1]?.status === 'registering');
    first.actor.send({ type: 'REMOVE_FILE', key: 'f2' });
    const stored = JSON.stringify(persistUpload(first.actor.getPersistedSnapshot()));
    first.actor.stop(); // the page goes away while the registration is in flight…
    fake.control.stallTransfers = false;
    fake.pending.length = 0;
    release(); // …and the registration commits anyway
    for (let i = 0; i < 20 && fake.count('registerFiles') === 0; i++)
      await new Promise((r) => setImmediate(r));
    expect(fake.entities.get('e1')!.state.files.map((f) => f.originalName)).toEqual(['a.pdf', 'p.png']);

    const second = createActor(first.machine, { snapshot: JSON.parse(stored), input: {} }).start();
    expect(second.getSnapshot().context.removals).toEqual([{ key: 'f2', fileId: null }]);
    second.send({ type: 'RESUME', sources: { f1: doc } });
    const done = await waitFor(second, phase('completed'));
    expect(fake.entities.get(done.context.entityId!)!.state.files.map((f) => f.originalName)).toEqual([
      'a.pdf',
    ]);
  });

  it('6: ADD_FILES and RESUME while uploading do not restart a file Storage refused, nor leave a second actor', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake, { autoFinalize: false });
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
    fake.control.stallTransfers = true;
    actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'photos', body: png(), name: 'p1.png' },
        { slot: 'photos', body: png(), name: 'p2.png' },
      ],
    });
    actor.send({ type: 'START' });
    await waitFor(actor, (s) => s.context.files[0]!.status === 'error');
    await fake.stalled(2);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'photos', body: png(), name: 'p3.png' }] });
    actor.send({ type: 'RESUME' });
    await fake.stalled(2);
    const s = actor.getSnapshot();
    expect(s.context.files[0]).toMatchObject({ status: 'error', failures: 1 });
    expect(fake.count('uploadObject')).toBe(3);
    const transfers = Object.keys(s.children)
      .filter((id) => id.startsWith('transfer:'))
      .sort();
    expect(transfers).toEqual(
      s.context.files
        .filter((f) => f.status === 'uploading')
        .map((f) => `transfer:${f.key}`)
        .sort(),
    );
  });

  it('7: the store works again after release then retain (React <Activity>): events reach a live actor and the upload completes', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const store = createUploadStore({
      backend: fake.backend,
      kind: 'report',
      scheduler: (f) => (f(), () => {}),
    });
    const release = store.retain();
    store.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
    store.send({ type: 'START' });
    await fake.stalled(1);
    release();
    await new Promise((r) => queueMicrotask(() => r(null)));
    expect(store.actor.getSnapshot().status).toBe('stopped');
    fake.control.stallTransfers = false;
    fake.pending.length = 0;
    store.send({ type: 'ADD_FILES', files: [{ slot: 'photos', body: png(), name: 'p.png' }] }); // while hidden
    const releaseAgain = store.retain();
    const done = await waitFor(store.actor, phase('completed'));
    expect(done.context.files.map((f) => [f.name, f.status])).toEqual([
      ['a.pdf', 'uploaded'],
      ['p.png', 'uploaded'],
    ]);
    releaseAgain();
  });

  it('8: an idempotency key reused with another kind is refused; the actor keeps its kind', async () => {
    const fake = createFakeBackend();
    const first = start(fake);
    first.actor.send({ type: 'CREATE', idempotencyKey: 'same' });
    await waitFor(first.actor, phase('draft'));
    const other = start(fake, { kind: 'invoice' });
    other.actor.send({ type: 'CREATE', idempotencyKey: 'same' });
    const refused = await waitFor(other.actor, (s) => phase('idle')(s) && s.context.error !== null);
    expect(refused.context.error).toMatchObject({ code: 'UL004', message: expect.stringContaining('same') });
    expect(refused.context.kind).toBe('invoice');
    expect(refused.context.entityId).toBeNull();
    expect(refused.context.idempotencyKey).toBeNull(); // refused: the next CREATE gets its own key
  });

  it('9: restarted with only the entity id, files keep their keys and RESUME by those keys works', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const first = start(fake);
    const doc = pdf();
    first.actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body: doc, name: 'a.pdf', key: 'contract' }],
    });
    first.actor.send({ type: 'START' });
    await fake.stalled(1);
    const entityId = first.actor.getSnapshot().context.entityId!;
    first.actor.stop();
    fake.control.stallTransfers = false;
    fake.pending.length = 0;

    const second = start(fake, { entityId });
    const waiting = await waitFor(second.actor, (s) => phase('suspended')(s));
    expect(waiting.context.files.map((f) => f.key)).toEqual(['contract']);
    expect(selectFilesNeedingSource(waiting).map((f) => f.key)).toEqual(['contract']);
    second.actor.send({ type: 'RESUME', sources: { elsewhere: doc } });
    expect(second.actor.getSnapshot().context.error).toMatchObject({
      code: 'UL004',
      message: expect.stringContaining('elsewhere'),
    });
    second.actor.send({ type: 'RESUME', sources: { contract: doc } });
    await waitFor(second.actor, phase('completed'));
  });

  it('10: progress is 0 before any file, not a full bar', () => {
    const { actor } = start(createFakeBackend());
    expect(selectProgress(actor.getSnapshot()).fraction).toBe(0);
  });

  it('11: errors keep their class and fields through the snapshot; a malformed answer is a typed error', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
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
    const failed = await waitFor(actor, phase('failed'));
    const restored = JSON.parse(JSON.stringify(failed.context.files[0]!.error));
    const typed = typedError(restored);
    expect(typed).toBeInstanceOf(StorageTransferError);
    expect(typed).toMatchObject({ storageCode: 'AccessDenied', retryable: false, status: 403 });

    let thrown: unknown;
    try {
      parseUploadState({ entity_id: 'x', kind: 'k', status: 'nope' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MalformedAnswerError);
    expect(isUploadLifecycleError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(/status/);
  });

  it('12: a bad file in a one-shot START leaves no row and names the file; a [good, bad] batch in draft keeps the good one', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'document', body: pdf(), name: 'a.pdf' },
        { slot: 'photos', body: text(), name: 'notes.txt' },
      ],
    });
    actor.send({ type: 'START' });
    const refused = await waitFor(actor, (s) => phase('idle')(s) && s.context.error !== null);
    expect(fake.entities.size).toBe(0);
    expect(refused.context.error!.message).toMatch(/^notes\.txt: /);
    expect(refused.context.files[1]).toMatchObject({ status: 'error', error: { code: 'UL004' } });

    actor.send({ type: 'REMOVE_FILE', key: 'f2' });
    actor.send({ type: 'CREATE' });
    await waitFor(actor, phase('draft'));
    actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'photos', body: png(), name: 'ok.png' },
        { slot: 'photos', body: text(), name: 'bad.txt' },
      ],
    });
    const s = actor.getSnapshot();
    expect(s.context.files.map((f) => f.name)).toEqual(['a.pdf', 'ok.png']);
    expect(s.context.error!.message).toMatch(/^bad\.txt: file type text\/plain not allowed/);
  });

  it('a lost create answer is repeated with the same key: one entity', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    fake.loseAnswer('createDraft', networkError(new Error('reset')));
    actor.send({ type: 'CREATE' });
    await waitFor(actor, (s) => phase('idle')(s) && s.context.error !== null);
    expect(actor.getSnapshot().context.idempotencyKey).toBe('key-1');
    actor.send({ type: 'CREATE' });
    await waitFor(actor, phase('draft'));
    expect(fake.entities.size).toBe(1);
  });

  it('an entity whose files are known costs two RPCs: START from idle, then finalize', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    actor.send({
      type: 'ADD_FILES',
      files: [
        { slot: 'document', body: pdf(), name: 'a.pdf' },
        ...[1, 2, 3, 4, 5].map((i) => ({ slot: 'photos', body: png(), name: `p${i}.png` })),
      ],
    });
    actor.send({ type: 'START' });
    await waitFor(actor, phase('completed'));
    const rpcs = fake.calls.filter((c) => c.method !== 'uploadObject').map((c) => c.method);
    expect(rpcs).toEqual(['createDraft', 'finalizeUpload']);
  });

  it('every refused event leaves a typed error and changes nothing else', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    const before = actor.getSnapshot();
    actor.send({ type: 'FINALIZE' });
    const after = actor.getSnapshot();
    expect(after.context.error).toMatchObject({ name: 'NotAcceptingError', code: 'UL005' });
    expect({ ...after.context, error: null }).toEqual(before.context);
    expect(settled(after)).toBe(true);
  });
});

/**
 * DISCARD: `delete_upload` from the upload machine, against a fake Backend. The entity's rows go
 * (the database queues its objects for removal), the local files are forgotten, and `discarded`
 * refuses everything after, typed — like `completed`. Where a call is in flight, DISCARD waits
 * for its answer; a completed upload is final and says so.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, waitFor } from 'xstate';
import { createUploadMachine } from '../../src/machines/upload.js';
import { selectIsBusy, selectPhase, type UploadSnapshot } from '../../src/machines/upload-selectors.js';
import { networkError } from '../../src/adapters/backend.js';
import { EntityNotFoundError } from '../../src/errors.js';
import { createFakeBackend, type FakeBackend } from './fake-backend.js';

const pdf = (size = 100) => new Blob([new Uint8Array(size)], { type: 'application/pdf' });
const inPhase = (phase: string) => (s: UploadSnapshot) => selectPhase(s) === phase;

function start(fake: FakeBackend) {
  const machine = createUploadMachine({
    backend: fake.backend,
    random: () => 0.5,
    generateId: () => 'key-1',
  });
  const actor = createActor(machine, {
    clock: new SimulatedClock(),
    input: {
      kind: 'report',
      retry: { attempts: 3, baseDelayMs: 1000, maxDelayMs: 8000, factor: 2, jitter: 0.5 },
    },
  });
  const phases: string[] = [];
  actor.subscribe((s) => {
    const phase = selectPhase(s);
    if (phases.at(-1) !== phase) phases.push(phase);
  });
  actor.start();
  return { actor, phases };
}

async function toDraft(fake: FakeBackend) {
  const ctx = start(fake);
  ctx.actor.send({ type: 'CREATE', metadata: { title: 'Q3' } });
  await waitFor(ctx.actor, inPhase('draft'));
  ctx.actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });
  return ctx;
}

describe('DISCARD', { timeout: 10_000 }, () => {
  it('in draft deletes the entity and forgets the files; discarded refuses every later event, typed', async () => {
    const fake = createFakeBackend();
    const { actor, phases } = await toDraft(fake);

    actor.send({ type: 'DISCARD' });
    expect(selectIsBusy(actor.getSnapshot())).toBe(true); // delete_upload is on its way
    const discarded = await waitFor(actor, inPhase('discarded'));
    expect(selectIsBusy(discarded)).toBe(false);

    expect(phases.slice(-2)).toEqual(['discarding', 'discarded']);
    expect(fake.count('deleteUpload')).toBe(1);
    expect(fake.entities.has('e1')).toBe(false);
    expect(discarded.context.files).toEqual([]);
    expect(discarded.context.error).toBeNull();

    actor.send({ type: 'START' });
    expect(selectPhase(actor.getSnapshot())).toBe('discarded');
    expect(actor.getSnapshot().context.error).toMatchObject({
      code: 'UL005',
      message: 'START is not accepted while discarded',
    });
    actor.send({ type: 'DISCARD' });
    expect(actor.getSnapshot().context.error?.message).toBe('DISCARD is not accepted while discarded');
    expect(fake.count('deleteUpload')).toBe(1);
  });

  it('in idle (no entity yet) forgets the local files without calling the database', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'document', body: pdf(), name: 'a.pdf' }] });

    actor.send({ type: 'DISCARD' });

    expect(selectPhase(actor.getSnapshot())).toBe('discarded');
    expect(actor.getSnapshot().context.files).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it('while uploading aborts the transfers in flight, then deletes the entity', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const { actor } = await toDraft(fake);
    actor.send({ type: 'START' });
    await fake.stalled(1);
    const signal = fake.pending[0]!.transfer.signal;

    actor.send({ type: 'DISCARD' });
    expect(signal.aborted).toBe(true);
    await waitFor(actor, inPhase('discarded'));

    expect(fake.entities.has('e1')).toBe(false);
    expect(fake.objects.size).toBe(0);
  });

  it('in failed deletes the entity', async () => {
    const fake = createFakeBackend();
    fake.control.stallTransfers = true;
    const { actor } = await toDraft(fake);
    actor.send({ type: 'START' });
    await fake.stalled(1);
    actor.send({ type: 'CANCEL' });
    await waitFor(actor, inPhase('failed'));

    actor.send({ type: 'DISCARD' });
    await waitFor(actor, inPhase('discarded'));

    expect(fake.entities.has('e1')).toBe(false);
  });

  it('while start_upload is in flight is deferred, then deletes once it answers: nothing is transferred', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);
    actor.send({ type: 'START' });
    actor.send({ type: 'DISCARD' });
    expect(actor.getSnapshot().context.discardRequested).toBe(true);
    expect(actor.getSnapshot().context.error).toBeNull();

    await waitFor(actor, inPhase('discarded'));

    expect(fake.count('startUpload')).toBe(1);
    expect(fake.count('uploadObject')).toBe(0);
    expect(fake.entities.has('e1')).toBe(false);
  });

  it('while create_upload_draft is in flight is deferred: the draft it makes is deleted', async () => {
    const fake = createFakeBackend();
    const { actor } = start(fake);
    actor.send({ type: 'CREATE', metadata: {} });
    actor.send({ type: 'DISCARD' });

    await waitFor(actor, inPhase('discarded'));

    expect(fake.count('createDraft')).toBe(1);
    expect(fake.entities.size).toBe(0);
  });

  it('deferred while finalizing: an upload that completed first stays completed, and the refusal says why', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);
    let sent = false;
    actor.subscribe((s) => {
      if (!sent && selectPhase(s) === 'finalizing') {
        sent = true;
        actor.send({ type: 'DISCARD' });
      }
    });
    actor.send({ type: 'START' });

    const completed = await waitFor(actor, inPhase('completed'));

    expect(sent).toBe(true);
    expect(fake.entities.get('e1')!.state.status).toBe('completed');
    expect(fake.count('deleteUpload')).toBe(0);
    expect(completed.context.discardRequested).toBe(false);
    expect(completed.context.error).toMatchObject({
      code: 'UL005',
      message: 'DISCARD is not accepted while completed: the upload completed before it could be discarded',
    });
  });

  it('of a completed upload is refused, typed, without calling the database', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);
    actor.send({ type: 'START' });
    await waitFor(actor, inPhase('completed'));

    actor.send({ type: 'DISCARD' });

    expect(selectPhase(actor.getSnapshot())).toBe('completed');
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'UL005' });
    expect(fake.count('deleteUpload')).toBe(0);
  });

  it('unanswered: reads the entity again and keeps the error; a second DISCARD deletes it', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);
    fake.fail('deleteUpload', networkError(new Error('reset')));

    actor.send({ type: 'DISCARD' });
    const back = await waitFor(
      actor,
      (s) => selectPhase(s) === 'draft' && fake.count('getUploadState') === 1,
    );
    expect(back.context.error).toMatchObject({ name: 'StorageTransferError', retryable: true });
    expect(fake.entities.has('e1')).toBe(true);

    actor.send({ type: 'DISCARD' });
    await waitFor(actor, inPhase('discarded'));
    expect(fake.entities.has('e1')).toBe(false);
  });

  it('of an entity already gone (UL003: its answer was lost, or the sweep took it) ends discarded', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);
    fake.fail('deleteUpload', new EntityNotFoundError({ message: 'entity not found' }));

    actor.send({ type: 'DISCARD' });

    await waitFor(actor, inPhase('discarded'));
    expect(actor.getSnapshot().context.error).toBeNull();
  });

  it('CANCEL in a draft is refused, typed, and its hint names DISCARD', async () => {
    const fake = createFakeBackend();
    const { actor } = await toDraft(fake);

    actor.send({ type: 'CANCEL' });

    expect(selectPhase(actor.getSnapshot())).toBe('draft');
    expect(actor.getSnapshot().context.error).toMatchObject({ code: 'UL005' });
    expect(actor.getSnapshot().context.error?.hint).toContain('DISCARD deletes it');
  });
});

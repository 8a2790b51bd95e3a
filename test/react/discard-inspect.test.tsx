// @vitest-environment jsdom
/**
 * useUploadLifecycle: `upload.discard()` deletes the upload, and the `inspect` option hands every
 * actor the hook creates — the upload and its `transfer:{key}` children — to an inspector
 * (`@statelyai/inspect`'s, or any XState inspection observer).
 */
import { act, cleanup, render, screen } from '@testing-library/react';
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import {
  useUploadLifecycle,
  type UploadLifecycle,
  type UseUploadLifecycleOptions,
} from '../../src/react/index.js';
import { createUploadStore } from '../../src/react/upload-store.js';
import { createControlledBackend, createFrameClock, pdf } from './support.js';

afterEach(cleanup);

type FrameClock = ReturnType<typeof createFrameClock>;

function mount(options: UseUploadLifecycleOptions, clock: FrameClock) {
  const probe = {} as { upload: UploadLifecycle };
  function Uploader() {
    const upload = useUploadLifecycle({ scheduler: clock.scheduler, ...options });
    probe.upload = upload;
    return <p data-testid="status">{upload.status}</p>;
  }
  render(<Uploader />);
  return probe;
}

async function until(clock: FrameClock, done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await act(() => new Promise((resolve) => setTimeout(resolve, 0)));
    clock.frame();
    if (done()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}
const statusIs = (status: string) => () => screen.getByTestId('status').textContent === status;

describe('useUploadLifecycle: discard and inspect', () => {
  it('upload.discard() in a draft deletes the entity and shows discarded; a later start is refused, typed', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const probe = mount({ backend: controlled.backend, kind: 'report' }, clock);
    act(() => probe.upload.create({ title: 'Q3' }));
    await until(clock, statusIs('draft'), 'draft');
    const entityId = probe.upload.entityId!;

    act(() => probe.upload.discard());
    await until(clock, statusIs('discarded'), 'discarded');

    expect(controlled.fake.entities.has(entityId)).toBe(false);
    expect(probe.upload.files).toEqual([]);
    act(() => probe.upload.start());
    await until(clock, () => probe.upload.error !== null, 'the refusal');
    expect(probe.upload.error?.code).toBe('UL005');
    expect(probe.upload.status).toBe('discarded');
  });

  it('upload.cancel() in a draft is refused, typed, and the hint points to discard', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const probe = mount({ backend: controlled.backend, kind: 'report' }, clock);
    act(() => probe.upload.create());
    await until(clock, statusIs('draft'), 'draft');

    act(() => probe.upload.cancel());
    await until(clock, () => probe.upload.error !== null, 'the refusal');

    expect(probe.upload.error).toMatchObject({
      code: 'UL005',
      message: 'CANCEL is not accepted while draft',
    });
    expect(probe.upload.error?.hint).toContain('DISCARD');
    expect(probe.upload.status).toBe('draft');
  });

  it("the inspect option gives @statelyai/inspect the live upload actor, its transfer children and the user's events", async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const received: StatelyInspectionEvent[] = [];
    const inspector = createInspector({ send: (event) => void received.push(event) });
    const probe = mount({ backend: controlled.backend, kind: 'report', inspect: inspector.inspect }, clock);

    act(() => probe.upload.addFiles([pdf(1000)], { slot: 'document' }));
    act(() => probe.upload.start());
    await until(clock, statusIs('uploading'), 'uploading');
    await controlled.started(1);
    // The inspector converts events when the browser is idle: wait for the transfer's registration.
    const heard = (name: string) => () => received.some((e) => e.type === '@xstate.actor' && e.name === name);
    await until(clock, heard('transfer:f1'), 'the inspector to hear of the transfer');

    const actors = received.filter((e) => e.type === '@xstate.actor');
    const root = actors.find((e) => e.parentId === undefined && e.name === 'upload');
    expect(root, 'the upload actor is registered').toBeDefined();
    const children = actors.filter((e) => e.parentId === root!.sessionId).map((e) => e.name);
    expect(children).toContain('transfer:f1');
    const events = received.filter((e) => e.type === '@xstate.event' && e.sessionId === root!.sessionId);
    expect(events.map((e) => (e as { event: { type: string } }).event.type)).toEqual(
      expect.arrayContaining(['ADD_FILES', 'START']),
    );
    const snapshots = received.filter(
      (e) => e.type === '@xstate.snapshot' && e.sessionId === root!.sessionId,
    );
    expect(snapshots.at(-1)).toMatchObject({ snapshot: { value: { uploading: 'running' } } });
  });

  it('the store gives the same observer to the actor it restarts after a stop (Activity hide/show)', async () => {
    const controlled = createControlledBackend();
    const seen: InspectionEvent[] = [];
    const store = createUploadStore({
      backend: controlled.backend,
      kind: 'report',
      scheduler: (flush) => (flush(), () => {}),
      inspect: (event) => void seen.push(event),
    });
    const release = store.retain();
    const firstId = store.actor.sessionId;
    release();
    await Promise.resolve(); // the store stops a tick after the last release
    const releaseAgain = store.retain();

    expect(store.actor.sessionId).not.toBe(firstId);
    const registered = seen.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef.sessionId);
    expect(registered).toEqual(expect.arrayContaining([firstId, store.actor.sessionId]));
    releaseAgain();
  });
});

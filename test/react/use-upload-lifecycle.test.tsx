// @vitest-environment jsdom
/**
 * useUploadLifecycle: rendering rules (one render per frame at most, file rows isolated),
 * StrictMode, unmount and reload resume — against the fake backend, transfers driven by hand.
 */
import { StrictMode, memo } from 'react';
import { act, cleanup, render, screen } from '@testing-library/react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidFileError } from '../../src/errors.js';
import {
  useUploadFile,
  useUploadLifecycle,
  type UploadLifecycle,
  type UploadStore,
  type UseUploadLifecycleOptions,
} from '../../src/react/index.js';
import { createControlledBackend, createFrameClock, memoryStorage, pdf, png } from './support.js';

afterEach(cleanup);

type FrameClock = ReturnType<typeof createFrameClock>;

interface Probe {
  upload: UploadLifecycle;
  /** Frame number of every render of the uploader. */
  renders: number[];
  rowRenders: Map<string, number>;
}

function mount(options: UseUploadLifecycleOptions, clock: FrameClock, { strict = false } = {}) {
  const probe = { renders: [], rowRenders: new Map() } as unknown as Probe;

  const FileRow = memo(function FileRow({ store, fileKey }: { store: UploadStore; fileKey: string }) {
    const file = useUploadFile(store, fileKey);
    probe.rowRenders.set(fileKey, (probe.rowRenders.get(fileKey) ?? 0) + 1);
    return (
      <li data-testid={`file-${fileKey}`}>
        {file?.name} {file?.state} {file?.bytesSent}
      </li>
    );
  });

  function Uploader() {
    const upload = useUploadLifecycle({ scheduler: clock.scheduler, ...options });
    probe.upload = upload;
    probe.renders.push(clock.count);
    return (
      <div>
        <p data-testid="status">{upload.status}</p>
        <p data-testid="db">{upload.databaseStatus ?? 'none'}</p>
        <p data-testid="progress">
          {upload.progress.bytesSent}/{upload.progress.bytesTotal}
        </p>
        <ul>
          {upload.files.map((f) => (
            <FileRow key={f.key} store={upload.store} fileKey={f.key} />
          ))}
        </ul>
      </div>
    );
  }

  const result = render(
    strict ? (
      <StrictMode>
        <Uploader />
      </StrictMode>
    ) : (
      <Uploader />
    ),
  );
  return { probe, ...result };
}

/** Lets pending promises settle and runs frames until `done()` holds. */
async function until(clock: FrameClock, done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await act(() => new Promise((resolve) => setTimeout(resolve, 0)));
    clock.frame();
    if (done()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

const statusIs = (status: string) => () => screen.getByTestId('status').textContent === status;

async function startUpload(probe: Probe, clock: FrameClock, files: File[]) {
  act(() => {
    probe.upload.addFiles(files.slice(0, 1), { slot: 'document' });
    if (files.length > 1) probe.upload.addFiles(files.slice(1), { slot: 'photos' });
    probe.upload.create({ title: 'Q3' });
  });
  await until(clock, statusIs('draft'), 'draft');
  act(() => probe.upload.start());
  await until(clock, statusIs('uploading'), 'uploading');
}

describe('useUploadLifecycle', () => {
  it('renders at most once per animation frame during a burst of 1,000 progress events', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const { probe } = mount({ backend: controlled.backend, kind: 'report' }, clock);
    await startUpload(probe, clock, [pdf(1000)]);
    const [held] = await controlled.started(1);

    const before = probe.renders.length;
    const firstFrame = clock.count + 1;
    for (let i = 1; i <= 1000; i++) {
      // Each event in its own act(): a store that notified per event would render 1,000 times.
      act(() => held!.progress(i));
      if (i % 100 === 0) clock.frame();
    }
    const burst = probe.renders.slice(before);
    const perFrame = new Map<number, number>();
    for (const frame of burst) perFrame.set(frame, (perFrame.get(frame) ?? 0) + 1);

    expect(clock.count - firstFrame + 1).toBe(10);
    expect(burst.length).toBeLessThanOrEqual(10);
    expect(Math.max(...perFrame.values())).toBe(1);
    expect(burst.every((frame) => frame >= firstFrame)).toBe(true); // none between frames
    expect(screen.getByTestId('progress').textContent).toBe('1000/1000');
  });

  it('re-renders a file row only when that file changes', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const { probe } = mount({ backend: controlled.backend, kind: 'report' }, clock);
    await startUpload(probe, clock, [pdf(1000), png(1000)]);
    const [first] = await controlled.started(2);
    await until(clock, () => probe.upload.files.every((f) => f.state === 'uploading'), 'both uploading');
    const photoRenders = probe.rowRenders.get('f2');
    const documentRenders = probe.rowRenders.get('f1')!;

    for (let i = 1; i <= 5; i++) {
      act(() => first!.progress(i * 100));
      clock.frame();
    }

    expect(probe.rowRenders.get('f1')).toBe(documentRenders + 5);
    expect(probe.rowRenders.get('f2')).toBe(photoRenders);
    expect(screen.getByTestId('file-f1').textContent).toContain('500');
  });

  it('keeps one actor through StrictMode double mount: one draft, one start, one transfer per file', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const onCompleted = vi.fn();
    const { probe } = mount({ backend: controlled.backend, kind: 'report', onCompleted }, clock, {
      strict: true,
    });
    await startUpload(probe, clock, [pdf(1000)]);
    const [held] = await controlled.started(1);
    await act(() => held!.finish());
    await until(clock, statusIs('completed'), 'completed');

    expect(controlled.fake.count('createDraft')).toBe(1);
    expect(controlled.fake.count('startUpload')).toBe(1);
    expect(controlled.transfers).toHaveLength(1);
    expect(controlled.fake.count('finalizeUpload')).toBe(1);
    expect(onCompleted).toHaveBeenCalledTimes(1);
    expect(onCompleted.mock.calls[0]![0]).toMatchObject({ entityId: probe.upload.entityId });
    expect(screen.getByTestId('db').textContent).toBe('completed');
  });

  it('reads an existing entity once in StrictMode when given its id', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const draft = await controlled.backend.createDraft({ kind: 'report', metadata: {} });
    mount({ backend: controlled.backend, entityId: draft.entityId }, clock, { strict: true });
    await until(clock, statusIs('draft'), 'draft');

    expect(controlled.fake.count('getUploadState')).toBe(1);
    expect(screen.getByTestId('db').textContent).toBe('draft');
  });

  it('aborts the transfers on unmount and updates nothing afterwards', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const consoleError = vi.spyOn(console, 'error');
    const { probe, unmount } = mount({ backend: controlled.backend, kind: 'report' }, clock);
    await startUpload(probe, clock, [pdf(1000), png(1000)]);
    const held = await controlled.started(2);
    const store = probe.upload.store;
    const renders = probe.renders.length;

    unmount();
    await act(() => Promise.resolve()); // the deferred stop (StrictMode guard) runs in a microtask

    expect(held.every((h) => h.aborted)).toBe(true);
    expect(store.actor.getSnapshot().status).toBe('stopped');
    const published = store.getSnapshot();
    held[0]!.progress(500);
    clock.frame();
    expect(store.getSnapshot()).toBe(published);
    expect(clock.pending).toBe(0);
    expect(probe.renders.length).toBe(renders);
    expect(controlled.fake.count('failUpload')).toBe(0); // unmounting is not cancelling
    expect(consoleError).not.toHaveBeenCalled();
    consoleError.mockRestore();
  });

  it('resumes after a reload with persistKey, sending only the unfinished file', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const storage = memoryStorage();
    const options = { backend: controlled.backend, kind: 'report', persistKey: 'upload:report', storage };
    const first = mount(options, clock);
    await startUpload(first.probe, clock, [pdf(1000), png(800)]);
    const [document] = await controlled.started(2);
    await act(() => document!.finish());
    await until(clock, () => first.probe.upload.files[0]!.state === 'uploaded', 'document uploaded');
    const entityId = first.probe.upload.entityId;
    first.unmount(); // the page goes away mid-upload
    await act(() => Promise.resolve());
    expect(storage.data.has('upload:report')).toBe(true);

    const onCompleted = vi.fn();
    const second = mount({ ...options, onCompleted }, clock);
    await until(clock, statusIs('suspended'), 'suspended');
    expect(second.probe.upload.entityId).toBe(entityId);
    expect(second.probe.upload.files.map((f) => [f.key, f.state])).toEqual([
      ['f1', 'uploaded'],
      ['f2', 'detached'],
    ]);

    act(() => second.probe.upload.resume({ f2: png(800) }));
    const [, , photo] = await controlled.started(3);
    await act(() => photo!.finish());
    await until(clock, statusIs('completed'), 'completed');

    // Three transfers in all: the document once, the photo before the reload and after it.
    const [, photoBefore] = controlled.transfers;
    expect(controlled.transfers).toHaveLength(3);
    expect(photo!.transfer.objectPath).toBe(photoBefore!.transfer.objectPath);
    expect(controlled.fake.count('createDraft')).toBe(1);
    expect(onCompleted).toHaveBeenCalledTimes(1);
    expect(storage.data.has('upload:report')).toBe(false);
  });

  it('hydrates the server markup, then shows the upload restored from storage', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const storage = memoryStorage();
    const options = { backend: controlled.backend, kind: 'report', persistKey: 'upload:report', storage };
    const first = mount(options, clock);
    await startUpload(first.probe, clock, [pdf(1000)]);
    first.unmount();
    await act(() => Promise.resolve());
    cleanup();

    function Status() {
      const upload = useUploadLifecycle({ ...options, scheduler: clock.scheduler });
      return <p data-testid="status">{upload.status}</p>;
    }
    const container = document.body.appendChild(document.createElement('div'));
    container.innerHTML = renderToString(<Status />); // the server knows nothing of localStorage
    expect(container.textContent).toBe('idle');
    const recoverable = vi.fn();
    const root = hydrateRoot(container, <Status />, { onRecoverableError: recoverable });
    await until(clock, () => container.textContent === 'suspended', 'suspended');

    expect(recoverable).not.toHaveBeenCalled();
    act(() => root.unmount());
    container.remove();
  });

  it('reports a refused file as a typed error and a cancel through onSettled', async () => {
    const clock = createFrameClock();
    const controlled = createControlledBackend();
    const onSettled = vi.fn();
    const { probe } = mount({ backend: controlled.backend, kind: 'report', onSettled }, clock);
    await startUpload(probe, clock, [pdf(1000)]);

    act(() =>
      probe.upload.addFiles([new File(['x'.repeat(20)], 'notes.txt', { type: 'text/plain' })], {
        slot: 'photos',
      }),
    );
    await until(clock, () => probe.upload.error !== null, 'an error');
    expect(probe.upload.error).toBeInstanceOf(InvalidFileError);
    expect(probe.upload.error?.code).toBe('UL004');

    act(() => probe.upload.cancel());
    await until(clock, statusIs('failed'), 'failed');
    expect(onSettled).toHaveBeenCalledTimes(1);
    expect(onSettled.mock.calls[0]![0]).toMatchObject({ status: 'failed', failureReason: 'cancelled' });
    expect(screen.getByTestId('db').textContent).toBe('failed');
  });
});

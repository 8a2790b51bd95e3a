// @vitest-environment jsdom
/**
 * useUploadLifecycle while the database processes the files (issue 15): `status` and
 * `databaseStatus` say `processing`, `jobs` shows each file's jobs as the watcher reports them,
 * and the hook settles on the database's `completed` or `failed` (typed error, onSettled).
 * The backend is the fake one, with finalize answering `processing` and a watcher the test drives
 * (`backend.watchUpload`, as a Realtime-based one would plug in).
 */
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Backend, UploadJob, UploadState } from '../../src/core/port.js';
import { ProcessingFailedError } from '../../src/errors.js';
import { useUploadLifecycle, type UploadLifecycle, type UploadSettlement } from '../../src/react/index.js';
import type { SnapshotStorage } from '../../src/react/index.js';
import { createControlledBackend, createFrameClock, memoryStorage, pdf } from './support.js';

afterEach(cleanup);

/** A backend whose finalize answers `processing` with one pending sha256 job per file. */
function processingBackend() {
  const controlled = createControlledBackend();
  let report: ((state: UploadState) => void) | null = null;
  let settle: ((state: UploadState) => void) | null = null;
  let last: UploadState | null = null;
  const job = (state: UploadState, status: UploadJob['status'], lastError: unknown = null): UploadJob[] =>
    state.files.map((f, i) => ({
      jobId: `j${i}`,
      fileId: f.fileId,
      processor: 'sha256',
      required: true,
      status,
      attempt: status === 'pending' ? 0 : 1,
      maxAttempts: 3,
      lastError,
      artifacts: [],
    }));
  const backend: Backend = {
    ...controlled.backend,
    finalizeUpload: async (entityId) => {
      const state = await controlled.backend.getUploadState(entityId);
      last = { ...state, status: 'processing', jobs: job(state, 'pending') };
      return last;
    },
    watchUpload: (_entityId, onState, options) =>
      new Promise((resolve, reject) => {
        report = onState;
        settle = resolve;
        options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error));
      }),
  };
  return {
    controlled,
    backend,
    /** The watcher reports the jobs running. */
    running: () => {
      last = { ...last!, jobs: job(last!, 'running') };
      report!(last);
    },
    completed: () => settle!({ ...last!, status: 'completed', jobs: job(last!, 'complete') }),
    failed: (reason: string) => {
      const state: UploadState = {
        ...last!,
        status: 'failed',
        failureReason: reason,
        jobs: job(last!, 'dead', { message: 'checksum mismatch' }),
      };
      report!(state);
      settle!(state);
    },
  };
}

function mount(backend: Backend, onSettled: (s: UploadSettlement) => void, storage?: SnapshotStorage) {
  const clock = createFrameClock();
  const probe = {} as { upload: UploadLifecycle };
  function Uploader() {
    const upload = useUploadLifecycle({
      backend,
      kind: 'report',
      scheduler: clock.scheduler,
      onSettled,
      ...(storage && { storage, persistKey: 'upload' }),
    });
    probe.upload = upload;
    return (
      <div>
        <p data-testid="status">{upload.status}</p>
        <p data-testid="db">{upload.databaseStatus ?? 'none'}</p>
        <ul>
          {Object.entries(upload.jobs).flatMap(([key, jobs]) =>
            jobs.map((j) => (
              <li key={`${key}:${j.processor}`} data-testid={`job-${key}-${j.processor}`}>
                {j.status}
              </li>
            )),
          )}
        </ul>
      </div>
    );
  }
  const view = render(<Uploader />);
  return { clock, probe, view };
}

async function until(clock: ReturnType<typeof createFrameClock>, done: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    await act(() => new Promise((resolve) => setTimeout(resolve, 0)));
    clock.frame();
    if (done()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}
const text = (id: string) => screen.queryByTestId(id)?.textContent;

async function toProcessing(
  p: ReturnType<typeof processingBackend>,
  onSettled: (s: UploadSettlement) => void,
  storage?: SnapshotStorage,
) {
  const { clock, probe, view } = mount(p.backend, onSettled, storage);
  act(() => {
    probe.upload.addFiles([pdf(1000)], { slot: 'document' });
    probe.upload.start();
  });
  const [held] = await p.controlled.started(1);
  await act(() => held!.finish());
  await until(clock, () => text('status') === 'processing', 'processing');
  return { clock, probe, view };
}

describe('useUploadLifecycle: processing', () => {
  it('shows processing and each file’s jobs, then completes on the database word', async () => {
    const p = processingBackend();
    const onSettled = vi.fn();
    const { clock, probe } = await toProcessing(p, onSettled);

    expect(text('db')).toBe('processing');
    expect(probe.upload.isProcessing).toBe(true);
    expect(probe.upload.isBusy).toBe(true);
    expect(text('job-f1-sha256')).toBe('pending');
    expect(probe.upload.jobs).toEqual({
      f1: [expect.objectContaining({ processor: 'sha256', status: 'pending', required: true })],
    });
    expect(onSettled).not.toHaveBeenCalled();

    act(() => p.running());
    await until(clock, () => text('job-f1-sha256') === 'running', 'job running');
    expect(text('status')).toBe('processing');

    act(() => p.completed());
    await until(clock, () => text('status') === 'completed', 'completed');
    expect(text('db')).toBe('completed');
    expect(text('job-f1-sha256')).toBe('complete');
    expect(probe.upload.isProcessing).toBe(false);
    expect(onSettled).toHaveBeenCalledTimes(1);
    expect(onSettled).toHaveBeenCalledWith(expect.objectContaining({ status: 'completed', error: null }));
  });

  it('a processing failure: failed, the reason as a typed ProcessingFailedError, onSettled(failed)', async () => {
    const p = processingBackend();
    const onSettled = vi.fn();
    const { clock, probe } = await toProcessing(p, onSettled);

    act(() => p.failed('file file1: processor sha256 dead: checksum mismatch'));
    await until(clock, () => text('status') === 'failed', 'failed');
    expect(text('job-f1-sha256')).toBe('dead');
    expect(probe.upload.error).toBeInstanceOf(ProcessingFailedError);
    expect(probe.upload.error!.message).toContain('checksum mismatch');
    expect(probe.upload.jobs.f1![0]!.lastError).toEqual({ message: 'checksum mismatch' });
    expect(onSettled).toHaveBeenCalledWith(
      expect.objectContaining({
        status: 'failed',
        failureReason: 'file file1: processor sha256 dead: checksum mismatch',
        error: expect.objectContaining({ name: 'ProcessingFailedError' }),
      }),
    );
  });

  it('refuses CANCEL while processing (typed), and DISCARD deletes the upload', async () => {
    const p = processingBackend();
    const { clock, probe } = await toProcessing(p, vi.fn());
    act(() => probe.upload.cancel());
    await until(clock, () => probe.upload.error !== null, 'refusal');
    expect(probe.upload.error).toMatchObject({ code: 'UL005', name: 'NotAcceptingError' });
    expect(text('status')).toBe('processing');

    act(() => probe.upload.discard());
    await until(clock, () => text('status') === 'discarded', 'discarded');
    expect(p.controlled.fake.entities.size).toBe(0);
  });

  it('a reload while processing (persistKey): the remounted hook is processing again and watches', async () => {
    const p = processingBackend();
    const storage = memoryStorage();
    const first = await toProcessing(p, vi.fn(), storage);
    first.view.unmount();
    await act(() => new Promise((resolve) => setTimeout(resolve, 0)));

    const onSettled = vi.fn();
    const { clock, probe } = mount(p.backend, onSettled, storage);
    await until(clock, () => text('status') === 'processing', 'processing after reload');
    expect(probe.upload.jobs).toEqual({ f1: [expect.objectContaining({ status: 'pending' })] });
    // The restored actor watches again: the watcher's answer settles it.
    act(() => p.completed());
    await until(clock, () => text('status') === 'completed', 'completed after reload');
    expect(onSettled).toHaveBeenCalledWith(expect.objectContaining({ status: 'completed' }));
  });
});

/**
 * Test doubles for the hook tests: the in-memory fake backend with transfers the test drives by
 * hand (progress, finish, abort), a frame clock that stands in for requestAnimationFrame, and an
 * in-memory Storage.
 */
import { act } from '@testing-library/react';
import { abortError, type Backend, type ObjectTransfer } from '../../src/adapters/backend.js';
import type { SnapshotStorage } from '../../src/react/index.js';
import { createFakeBackend, type FakeBackend } from '../upload/fake-backend.js';

export const pdf = (size = 1000, name = 'report.pdf') =>
  new File([new Uint8Array(size)], name, { type: 'application/pdf' });
export const png = (size = 1000, name = 'photo.png') =>
  new File([new Uint8Array(size)], name, { type: 'image/png' });

/** A transfer the test controls. */
export interface HeldTransfer {
  transfer: ObjectTransfer;
  progress(bytesSent: number): void;
  /** Stores the object (as Storage would) and resolves the transfer. */
  finish(): Promise<void>;
  readonly aborted: boolean;
}

export interface ControlledBackend {
  backend: Backend;
  fake: FakeBackend;
  /** Transfers in the order they started. */
  transfers: HeldTransfer[];
  /** Resolves once `n` transfers have started. */
  started(n: number): Promise<HeldTransfer[]>;
}

export function createControlledBackend(): ControlledBackend {
  const fake = createFakeBackend();
  const transfers: HeldTransfer[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const backend: Backend = {
    ...fake.backend,
    uploadObject: (transfer) =>
      new Promise<void>((resolve, reject) => {
        let aborted = false;
        transfer.signal.addEventListener(
          'abort',
          () => {
            aborted = true;
            reject(abortError());
          },
          { once: true },
        );
        transfers.push({
          transfer,
          progress: (bytesSent) => transfer.onProgress?.(bytesSent, transfer.size),
          finish: async () => {
            await fake.backend.uploadObject({ ...transfer, onProgress: undefined });
            resolve();
          },
          get aborted() {
            return aborted;
          },
        });
        for (const w of waiters.filter((w) => transfers.length >= w.n)) w.resolve();
      }),
  };
  return {
    backend,
    fake,
    transfers,
    started: (n) =>
      transfers.length >= n
        ? Promise.resolve(transfers.slice(0, n))
        : new Promise((resolve) => waiters.push({ n, resolve: () => resolve(transfers.slice(0, n)) })),
  };
}

/** A stand-in for requestAnimationFrame: callbacks run when the test calls `frame()`. */
export function createFrameClock() {
  let queue: (() => void)[] = [];
  const clock = {
    /** Frames run so far. */
    count: 0,
    scheduler: (flush: () => void) => {
      queue.push(flush);
      return () => {
        queue = queue.filter((f) => f !== flush);
      };
    },
    /** Runs one animation frame (inside act, so React commits what it triggers). */
    frame() {
      act(() => {
        clock.count++;
        const due = queue;
        queue = [];
        for (const flush of due) flush();
      });
    },
    get pending() {
      return queue.length;
    },
  };
  return clock;
}

export function memoryStorage(): SnapshotStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

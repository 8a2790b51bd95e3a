/**
 * A simulated network between the upload machine and the embedded backend, so the demo shows
 * what real uploads go through: bytes arrive at a limited rate (visible progress), a connection
 * can drop (in-flight transfers and calls fail with a retryable network error), and a transfer
 * can arrive short (the stored object's size no longer matches the registration).
 */
import { networkError, abortError, type Backend, type ObjectTransfer } from '../../src/adapters/backend.js';

export interface NetworkState {
  online: boolean;
  /** The next transfer arrives one byte short. */
  corruptNext: boolean;
  bytesPerSecond: number;
  /** Progress callbacks per 50 ms tick: 1 is a calm network, 100 a burst of tiny chunks. */
  eventsPerTick: number;
}

export interface SimulatedNetwork {
  backend: Backend;
  getState(): NetworkState;
  /** Progress callbacks made so far (read it; it does not notify). */
  readonly progressEvents: number;
  subscribe(listener: () => void): () => void;
  /** Drops every connection now and stays offline for `ms`. */
  dropConnection(ms?: number): void;
  reconnect(): void;
  corruptNextTransfer(): void;
  setBandwidth(bytesPerSecond: number): void;
  setEventsPerTick(eventsPerTick: number): void;
}

const TICK_MS = 50;

export function simulateNetwork(inner: Backend, initial: Partial<NetworkState> = {}): SimulatedNetwork {
  let state: NetworkState = {
    online: true,
    corruptNext: false,
    bytesPerSecond: 400_000,
    eventsPerTick: 1,
    ...initial,
  };
  // Counted outside `state` so a burst does not notify the panel 1,000 times.
  let progressEvents = 0;
  const listeners = new Set<() => void>();
  const inFlight = new Set<(error: unknown) => void>();
  let reconnect: ReturnType<typeof setTimeout> | undefined;

  const set = (patch: Partial<NetworkState>) => {
    state = { ...state, ...patch };
    for (const listener of listeners) listener();
  };
  const offline = () => networkError(new Error('connection dropped (simulated)'));

  async function transfer(t: ObjectTransfer): Promise<void> {
    const corrupt = state.corruptNext;
    if (corrupt) set({ corruptNext: false });
    await new Promise<void>((resolve, reject) => {
      if (!state.online) return reject(offline());
      let sent = 0;
      const fail = (error: unknown) => {
        clearInterval(timer);
        inFlight.delete(fail);
        reject(error);
      };
      const timer = setInterval(() => {
        if (t.signal.aborted) return fail(abortError());
        const from = sent;
        sent = Math.min(t.size, sent + Math.max(1, Math.round((state.bytesPerSecond * TICK_MS) / 1000)));
        if (sent >= t.size) {
          clearInterval(timer);
          inFlight.delete(fail);
          resolve();
          return;
        }
        const steps = Math.max(1, state.eventsPerTick);
        for (let i = 1; i <= steps; i++) {
          t.onProgress?.(Math.round(from + ((sent - from) * i) / steps), t.size);
          progressEvents++;
        }
      }, TICK_MS);
      inFlight.add(fail);
    });
    const body = corrupt ? t.body.slice(0, Math.max(0, t.size - 1)) : t.body;
    await inner.uploadObject({ ...t, body });
  }

  /** Calls fail while offline, like a fetch that never reaches the server. */
  function call<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
    return (...args: A): Promise<R> => (state.online ? fn(...args) : Promise.reject(offline()));
  }

  const backend: Backend = {
    name: `${inner.name} (simulated network)`,
    createDraft: call((input) => inner.createDraft(input)),
    beginUpload: call((id) => inner.beginUpload(id)),
    startUpload: call((id, files) => inner.startUpload(id, files)),
    registerFile: call((id, file) => inner.registerFile(id, file)),
    registerFiles: call((id, files) => inner.registerFiles(id, files)),
    removeFile: call((id, fileId) => inner.removeFile(id, fileId)),
    uploadObject: transfer,
    finalizeUpload: call((id) => inner.finalizeUpload(id)),
    failUpload: call((id, reason) => inner.failUpload(id, reason)),
    retryUpload: call((id) => inner.retryUpload(id)),
    getUploadState: call((id) => inner.getUploadState(id)),
    deleteUpload: call((id) => inner.deleteUpload(id)),
    listUploads: call((query) => inner.listUploads(query)),
  };

  return {
    backend,
    getState: () => state,
    get progressEvents() {
      return progressEvents;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dropConnection(ms = 1500) {
      clearTimeout(reconnect);
      set({ online: false });
      for (const fail of [...inFlight]) fail(offline());
      reconnect = setTimeout(() => set({ online: true }), ms);
    },
    reconnect() {
      clearTimeout(reconnect);
      set({ online: true });
    },
    corruptNextTransfer: () => set({ corruptNext: true }),
    setBandwidth: (bytesPerSecond) => set({ bytesPerSecond }),
    setEventsPerTick: (eventsPerTick) => set({ eventsPerTick }),
  };
}

/**
 * The upload store: one upload machine actor behind a React-friendly external store.
 *
 * - Publishes snapshots at most once per animation frame, however fast the machine changes
 *   (1,000 progress events in a frame are one render).
 * - Reference-counted start/stop, so StrictMode's mount → unmount → mount keeps the one actor
 *   (no second draft, no second transfer); a real unmount stops it, which aborts its transfers.
 * - Works again after a stop: retained once more (React 19's `<Activity>` showing a hidden
 *   component), it restarts from the snapshot it stopped with, keeps the files' bytes, and
 *   resumes — only what Storage lacks is sent again. (@xstate/react does the same for its own
 *   actors with `stopRootWithRehydration`.)
 * - Optionally persists the snapshot under a key (page-reload resume) and fires settle callbacks
 *   on every database-confirmed end, not batched.
 *
 * Framework-free on purpose: `useUploadLifecycle` is a thin layer over it, and it can be tested
 * (and used from other frameworks) without React. Touches no browser global at import time.
 */
import { createActor, type Actor, type ActorOptions, type Snapshot } from 'xstate';
import type { Backend } from '../core/port.js';
import type { SerializedUploadError } from '../core/error-data.js';
import { adoptBytes } from '../machines/upload-actors.js';
import { USER_EVENT_POLICY } from '../machines/upload-events.js';
import {
  createUploadMachine,
  type UploadEvent,
  type UploadInput,
  type UploadMachine,
  type UploadOutput,
} from '../machines/upload.js';
import {
  persistUpload,
  selectPhase,
  type UploadPhase,
  type UploadSnapshot,
} from '../machines/upload-selectors.js';

/** Runs `flush` later (once); returns a cancel function. */
export type FrameScheduler = (flush: () => void) => () => void;

/** Where persisted snapshots go: `localStorage`, `sessionStorage`, or anything alike. */
export interface SnapshotStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** How an upload ended, as the database confirmed it. */
export interface UploadSettlement {
  status: 'completed' | 'failed';
  entityId: string | null;
  /** The failure (`null` on completion). */
  error: SerializedUploadError | null;
  failureReason: string | null;
}

export interface UploadStoreOptions extends Omit<UploadInput, 'entityId' | 'kind'> {
  backend: Backend;
  /** The entity kind, e.g. `'product'`. */
  kind?: string;
  /** Resume this entity (the machine starts by reading it from the database). */
  entityId?: string;
  /** Persist the snapshot under this key and resume from it on the next mount. */
  persistKey?: string;
  /** Default: `globalThis.localStorage` when it exists. */
  storage?: SnapshotStorage;
  /** Default: `requestAnimationFrame`, or a 16 ms timer where there is none (server, hidden tab). */
  scheduler?: FrameScheduler;
  /** Jitter source for retries (tests). */
  random?: () => number;
  /** Poll intervals (ms) while `processing`, when the backend has no `watchUpload` (see `createUploadMachine`). */
  watchIntervalsMs?: readonly number[];
  /** Declare each file's SHA-256 at registration (see `CreateUploadMachineOptions.sha256`). */
  sha256?: boolean;
  /** The actor's clock (backoff timers): XState's `SimulatedClock` in tests. Default: real time. */
  clock?: ActorOptions<UploadMachine>['clock'];
  /**
   * XState's inspection observer, given to every actor the store creates (also after a restart):
   * `createBrowserInspector().inspect` from `@statelyai/inspect` shows the live upload actor and
   * its transfer children in Stately's inspector. Any `(event) => void` observer works.
   */
  inspect?: ActorOptions<UploadMachine>['inspect'];
  onCompleted?: (output: UploadOutput) => void;
  onSettled?: (settlement: UploadSettlement) => void;
}

export interface UploadStore {
  /** The last published snapshot (changes at most once per frame). */
  getSnapshot(): UploadSnapshot;
  /**
   * The snapshot a server renders: the initial state, never one restored from storage (which
   * only the browser has), so hydration matches and the restored state follows right after.
   */
  getServerSnapshot(): UploadSnapshot;
  subscribe(listener: () => void): () => void;
  send(event: UploadEvent): void;
  /** Starts the actor on the first retain; returns the release. Stops a tick after the last release. */
  retain(): () => void;
  /** Replace the settle callbacks (the hook passes the latest props). */
  setCallbacks(callbacks: Pick<UploadStoreOptions, 'onCompleted' | 'onSettled'>): void;
  /** Publish now instead of at the next frame (tests, or before reading after a send). */
  flush(): void;
  /** The underlying actor (a new one after a stop and a retain); its `getSnapshot()` is never batched. */
  readonly actor: Actor<UploadMachine>;
}

export const defaultScheduler: FrameScheduler = (flush) => {
  const visible = typeof document === 'undefined' || document.visibilityState !== 'hidden';
  if (visible && typeof requestAnimationFrame === 'function') {
    const id = requestAnimationFrame(() => flush());
    return () => cancelAnimationFrame(id);
  }
  const id = setTimeout(flush, 16);
  return () => clearTimeout(id);
};

function defaultStorage(): SnapshotStorage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined; // access denied (sandboxed iframe, privacy mode)
  }
}

function readPersisted(
  storage: SnapshotStorage | undefined,
  key: string | undefined,
): Snapshot<unknown> | undefined {
  if (!storage || !key) return undefined;
  try {
    const text = storage.getItem(key);
    return text ? (JSON.parse(text) as Snapshot<unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the store. Creating it has no side effect (safe during render); the actor starts on
 * the first {@link UploadStore.retain}.
 *
 * @example
 * ```ts
 * const store = createUploadStore({ backend, kind: 'report' });
 * const release = store.retain();
 * store.subscribe(() => render(store.getSnapshot()));
 * store.send({ type: 'CREATE', metadata: { title: 'Q3' } });
 * ```
 */
export function createUploadStore(options: UploadStoreOptions): UploadStore {
  const { backend, persistKey, kind, entityId, random, clock, scheduler = defaultScheduler } = options;
  const storage = options.storage ?? defaultStorage();
  const machine = createUploadMachine({
    backend,
    ...(random && { random }),
    ...(options.watchIntervalsMs && { watchIntervalsMs: options.watchIntervalsMs }),
    ...(options.sha256 && { sha256: true }),
  });
  const input: UploadInput = {
    ...(kind !== undefined && { kind }),
    ...(entityId !== undefined && { entityId }),
    ...(options.metadata !== undefined && { metadata: options.metadata }),
    ...(options.requirements !== undefined && { requirements: options.requirements }),
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    ...(options.autoFinalize !== undefined && { autoFinalize: options.autoFinalize }),
    ...(options.retry !== undefined && { retry: options.retry }),
  };
  const restored = entityId === undefined ? readPersisted(storage, persistKey) : undefined;
  const actorOptions = {
    ...(clock && { clock }),
    ...(options.inspect && { inspect: options.inspect }),
  };
  let actor = createActor(
    machine,
    restored ? { input, snapshot: restored, ...actorOptions } : { input, ...actorOptions },
  );

  let callbacks: Pick<UploadStoreOptions, 'onCompleted' | 'onSettled'> = {
    onCompleted: options.onCompleted,
    onSettled: options.onSettled,
  };
  let published = actor.getSnapshot();
  let serverSnapshot: UploadSnapshot | undefined = restored ? undefined : published;
  let lastPhase: UploadPhase = selectPhase(published);
  const listeners = new Set<() => void>();
  let cancelFrame: (() => void) | null = null;
  let scheduled = false;
  let retainers = 0;
  const waiting: UploadEvent[] = [];
  let started = false;
  let stopped = false;

  function persist(snapshot: UploadSnapshot): void {
    if (!storage || !persistKey) return;
    try {
      // Over for good: nothing to resume after a reload.
      const phase = selectPhase(snapshot);
      if (phase === 'completed' || phase === 'discarded') storage.removeItem(persistKey);
      else storage.setItem(persistKey, JSON.stringify(persistUpload(actor.getPersistedSnapshot())));
    } catch {
      // Quota or privacy mode: resuming after a reload is a convenience, never a failure.
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    const cancel = scheduler(flush);
    // A scheduler may run `flush` synchronously; keep its cancel only while still pending.
    if (scheduled) cancelFrame = cancel;
  }

  function flush(): void {
    cancelFrame?.();
    cancelFrame = null;
    scheduled = false;
    const next = actor.getSnapshot();
    if (next === published) return;
    published = next;
    persist(next);
    for (const listener of [...listeners]) listener();
  }

  function settle(snapshot: UploadSnapshot): void {
    const phase = selectPhase(snapshot);
    if (phase === lastPhase) return;
    lastPhase = phase;
    if (phase === 'completed') {
      const output: UploadOutput = { entityId: snapshot.context.entityId!, files: snapshot.context.files };
      callbacks.onCompleted?.(output);
      callbacks.onSettled?.({
        status: 'completed',
        entityId: output.entityId,
        error: null,
        failureReason: null,
      });
    } else if (phase === 'failed') {
      callbacks.onSettled?.({
        status: 'failed',
        entityId: snapshot.context.entityId,
        error: snapshot.context.error,
        failureReason: snapshot.context.failureReason,
      });
    }
  }

  function start(): void {
    if (started && !stopped) return;
    if (stopped) {
      // Retained again after a stop: a new actor from the snapshot the old one stopped with.
      const previous = actor;
      actor = createActor(machine, {
        input,
        snapshot: persistUpload(previous.getPersistedSnapshot()),
        ...actorOptions,
      });
      adoptBytes(previous.system, actor.system);
      stopped = false;
      lastPhase = selectPhase(actor.getSnapshot());
      subscribeAndStart();
      // Its files' bytes are here: continue where it was.
      const restarted = actor.getSnapshot();
      if (
        selectPhase(restarted) === 'suspended' ||
        (USER_EVENT_POLICY[selectPhase(restarted)].RESUME === 'handle' &&
          restarted.context.files.some((f) => f.status === 'detached'))
      ) {
        actor.send({ type: 'RESUME' });
      }
      for (const event of waiting.splice(0)) actor.send(event);
      schedule();
      return;
    }
    started = true;
    subscribeAndStart();
  }

  function subscribeAndStart(): void {
    actor.subscribe({
      next: (snapshot) => {
        settle(snapshot);
        schedule();
      },
      error: schedule,
    });
    actor.start();
  }

  function stop(): void {
    if (stopped) return;
    stopped = true;
    cancelFrame?.();
    cancelFrame = null;
    scheduled = false;
    // Save before stopping: stopping aborts the transfers, which is not the state to resume from.
    persist(actor.getSnapshot());
    actor.stop();
  }

  return {
    get actor() {
      return actor;
    },
    getSnapshot: () => published,
    getServerSnapshot: () => (serverSnapshot ??= createActor(machine, { input }).getSnapshot()),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    send(event) {
      // While stopped (hidden), events wait for the next retain instead of vanishing.
      if (stopped) waiting.push(event);
      else actor.send(event);
    },
    retain() {
      retainers++;
      start();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        retainers--;
        // StrictMode releases and retains again synchronously; only a release that is still the
        // last one a microtask later is an unmount.
        queueMicrotask(() => {
          if (retainers === 0) stop();
        });
      };
    },
    setCallbacks(next) {
      callbacks = next;
    },
    flush,
  };
}

/**
 * The live demo in Stately's inspector: an XState inspection observer for `useUploadLifecycle`'s
 * `inspect` option that counts what it sees (the page shows the count, so a headless test can
 * tell the option is wired) and, when asked, forwards every event to `@statelyai/inspect`'s
 * browser inspector, which opens https://stately.ai/inspect in a new window.
 */
import { createBrowserInspector } from '@statelyai/inspect';
import type { InspectionEvent, Observer } from 'xstate';

export interface DemoInspector {
  /** Give this to `useUploadLifecycle({ inspect })`. */
  inspect: Observer<InspectionEvent>;
  /** Inspection events seen so far. */
  count(): number;
  subscribe(listener: () => void): () => void;
  stop(): void;
}

/**
 * @example
 * ```ts
 * const inspector = demoInspector({ open: true });
 * const upload = useUploadLifecycle({ backend, kind: 'report', inspect: inspector.inspect });
 * ```
 */
export function demoInspector(options: { open: boolean; url?: string }): DemoInspector {
  const stately = options.open ? createBrowserInspector(options.url ? { url: options.url } : {}) : null;
  const listeners = new Set<() => void>();
  let seen = 0;
  return {
    inspect: {
      next(event) {
        seen++;
        for (const listener of listeners) listener();
        stately?.inspect.next?.(event);
      },
    },
    count: () => seen,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => stately?.stop(),
  };
}

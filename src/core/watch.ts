/**
 * Watching an entity until the database settles it (issue 15): after finalize, an entity of a kind
 * with required processors is `processing` until its jobs end, and only the database decides
 * whether it becomes `completed` or `failed`. A watcher reports each new state and resolves with
 * the settled one.
 *
 * The default polls `get_upload_state` with backoff (works everywhere, costs one RPC per poll); a
 * backend may offer a push-based one instead (Supabase Realtime), with the same contract.
 */
import type { UploadState } from './port.js';

/** A watcher: reports states (each one that differs from the last) until `settled`, then resolves with it. */
export type UploadWatcher = (
  entityId: string,
  onState: (state: UploadState) => void,
  options?: WatchOptions,
) => Promise<UploadState>;

/** Options of one watch: when to stop, how often to poll. */
export interface WatchOptions {
  /** Stops watching; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Milliseconds between polls: each in turn, then the last one forever. Default
   * `[250, 500, 1000, 2000, 4000, 8000, 15000]`: quick for quick jobs, cheap for slow ones.
   */
  intervalsMs?: readonly number[];
  /** When to stop. Default: the entity is no longer `processing` ({@link isSettled}). */
  settled?: (state: UploadState) => boolean;
}

/** The default poll intervals (ms) of {@link pollingWatcher}: quick at first, then every 15 s. */
export const DEFAULT_WATCH_INTERVALS_MS = [250, 500, 1000, 2000, 4000, 8000, 15000] as const;

/** Settled: every status but `processing` (which only jobs, through the database, end). */
export const isSettled = (state: UploadState): boolean => (state.status as string) !== 'processing';

/** A job that will not change any more (`failed` is not: it is retried). */
const JOB_DONE = new Set(['complete', 'dead', 'cancelled']);

/**
 * Settled with its variants: settled, and every job — the optional ones that run on after
 * `completed` (thumbnails) too — has ended, so each file's variants are final.
 */
export const variantsSettled = (state: UploadState): boolean =>
  isSettled(state) && (state.jobs ?? []).every((j) => JOB_DONE.has(j.status));

/** What a state's watcher reports on: status, attempt and each file's jobs (their JSON). */
function fingerprint(state: UploadState): string {
  return JSON.stringify([
    state.status,
    state.attempt,
    state.updatedAt,
    state.failureReason,
    state.files,
    state.jobs,
  ]);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A watcher that polls `getUploadState` with backoff. An error of one poll (a dropped connection)
 * does not end the watch: the next poll tries again; only the signal ends it early.
 *
 * @example
 * ```ts
 * const watch = pollingWatcher((id) => backend.getUploadState(id));
 * const settled = await watch(entityId, (state) => render(state));
 * settled.status; // 'completed' | 'failed' | …
 * ```
 */
export function pollingWatcher(getUploadState: (entityId: string) => Promise<UploadState>): UploadWatcher {
  return async (entityId, onState, options = {}) => {
    const intervals = options.intervalsMs ?? DEFAULT_WATCH_INTERVALS_MS;
    if (intervals.length === 0 || intervals.some((ms) => !(ms >= 0)))
      throw new RangeError('intervalsMs must be a non-empty list of non-negative numbers');
    const settled = options.settled ?? isSettled;
    let last: string | null = null;
    for (let poll = 0; ; poll++) {
      if (options.signal?.aborted) throw options.signal.reason as Error;
      let state: UploadState | null = null;
      try {
        state = await getUploadState(entityId);
      } catch (error) {
        // Retryable or not, a failed poll is not the entity's answer; a typed refusal that will
        // not change (UL003: gone) ends the watch.
        if ((error as { code?: string }).code === 'UL003') throw error;
      }
      if (state) {
        const print = fingerprint(state);
        if (print !== last) {
          last = print;
          onState(state);
        }
        if (settled(state)) return state;
      }
      await sleep(intervals[Math.min(poll, intervals.length - 1)]!, options.signal);
    }
  };
}

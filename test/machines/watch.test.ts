import { describe, expect, it } from 'vitest';
import { pollingWatcher } from '../../src/core/watch.js';
import { networkError, type UploadState } from '../../src/core/port.js';
import { EntityNotFoundError } from '../../src/errors.js';

const state = (status: string, updatedAt = status): UploadState =>
  ({
    entityId: 'e',
    kind: 'k',
    status,
    attempt: 1,
    maxAttempts: 3,
    failureReason: null,
    metadata: {},
    createdAt: 't0',
    updatedAt,
    completedAt: null,
    requirements: [],
    files: [],
  }) as unknown as UploadState;

describe('pollingWatcher', () => {
  it('reports each new state once and resolves with the settled one', async () => {
    const answers = [
      state('processing', 'a'),
      state('processing', 'a'),
      state('processing', 'b'),
      state('completed'),
    ];
    let polls = 0;
    const seen: string[] = [];
    const settled = await pollingWatcher(async () => answers[Math.min(polls++, answers.length - 1)]!)(
      'e',
      (s) => seen.push(`${s.status}:${s.updatedAt}`),
      { intervalsMs: [0] },
    );
    expect(settled.status).toBe('completed');
    expect(polls).toBe(4);
    expect(seen).toEqual(['processing:a', 'processing:b', 'completed:completed']);
  });

  it('backs off along intervalsMs, then stays on the last', async () => {
    const waits: number[] = [];
    let polls = 0;
    let previous = performance.now();
    await pollingWatcher(async () => {
      const now = performance.now();
      if (polls > 0) waits.push(now - previous);
      previous = now;
      return state(++polls < 5 ? 'processing' : 'failed', String(polls));
    })('e', () => {}, { intervalsMs: [1, 30, 60] });
    expect(waits).toHaveLength(4);
    // setTimeout never fires early: each wait is at least its interval.
    expect(waits[1]).toBeGreaterThanOrEqual(29);
    expect(waits[2]).toBeGreaterThanOrEqual(59);
    expect(waits[3]).toBeGreaterThanOrEqual(59);
  });

  it('a failed poll is tried again; a gone entity (UL003) ends the watch', async () => {
    let polls = 0;
    const settled = await pollingWatcher(async () => {
      if (polls++ === 0) throw networkError(new Error('connection reset'));
      return state('completed');
    })('e', () => {}, { intervalsMs: [0] });
    expect(settled.status).toBe('completed');
    await expect(
      pollingWatcher(async () => {
        throw new EntityNotFoundError({ message: 'entity not found' });
      })('e', () => {}, { intervalsMs: [0] }),
    ).rejects.toBeInstanceOf(EntityNotFoundError);
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const watching = pollingWatcher(async () => state('processing'))(
      'e',
      () => controller.abort(new Error('left')),
      {
        intervalsMs: [10_000],
        signal: controller.signal,
      },
    );
    await expect(watching).rejects.toThrow('left');
  });

  it('refuses an empty or negative interval list', async () => {
    const watch = pollingWatcher(async () => state('completed'));
    await expect(watch('e', () => {}, { intervalsMs: [] })).rejects.toThrow(RangeError);
    await expect(watch('e', () => {}, { intervalsMs: [-1] })).rejects.toThrow(RangeError);
  });
});

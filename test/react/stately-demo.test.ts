// @vitest-environment jsdom
/**
 * The Storybook demo's Stately toggle (stories/demo/stately.ts), without a browser window: the
 * observer it hands to `useUploadLifecycle({ inspect })` counts every inspection event, and when
 * the toggle is on it opens Stately's inspector and, once that window says it is connected, posts
 * the live upload actor to it. (The Chromium story test cannot reach stately.ai, so this is the
 * proof that the toggle wires the inspector.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { createUploadMachine } from '../../src/machines/upload.js';
import { demoInspector } from '../../stories/demo/stately.js';
import { createFakeBackend } from '../upload/fake-backend.js';

afterEach(() => vi.restoreAllMocks());

/** The inspector converts events in an animation frame (jsdom has no requestIdleCallback). */
const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

describe("the demo's Stately toggle", () => {
  it('off: counts the inspection events of the live actor and opens no window', () => {
    const open = vi.spyOn(window, 'open');
    const inspector = demoInspector({ open: false });
    const actor = createActor(createUploadMachine({ backend: createFakeBackend().backend }), {
      input: { kind: 'report' },
      inspect: inspector.inspect,
    }).start();
    const before = inspector.count();
    actor.send({ type: 'DISCARD' });

    expect(before).toBeGreaterThan(0);
    expect(inspector.count()).toBeGreaterThan(before);
    expect(open).not.toHaveBeenCalled();
    actor.stop();
  });

  it("on: opens Stately's inspector and posts the upload actor to it once it is connected", async () => {
    const posted: { type: string; name?: string }[] = [];
    const target = { postMessage: (message: { type: string; name?: string }) => void posted.push(message) };
    const open = vi.spyOn(window, 'open').mockReturnValue(target as unknown as Window);
    const inspector = demoInspector({ open: true });
    const actor = createActor(createUploadMachine({ backend: createFakeBackend().backend }), {
      input: { kind: 'report' },
      inspect: inspector.inspect,
    }).start();
    await nextFrame();
    await nextFrame();

    expect(open).toHaveBeenCalledWith('https://stately.ai/inspect', 'xstateinspector');
    window.dispatchEvent(new MessageEvent('message', { data: { type: '@statelyai.connected' } }));

    expect(posted.find((m) => m.type === '@xstate.actor')).toMatchObject({ name: 'upload' });
    inspector.stop();
    expect(posted.at(-1)).toEqual({ type: '@statelyai.disconnected' });
    actor.stop();
  });
});

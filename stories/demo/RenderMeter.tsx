/**
 * Measures the hook's promise in the real browser: a component subscribed to the upload's
 * progress renders at most once per animation frame, however many progress events arrive.
 * Renders are counted when React commits them (a render React starts and throws away, e.g. a
 * concurrent render restarted because the store changed, never reaches the screen) and grouped
 * by `document.timeline.currentTime`, which is the same for everything that runs within one frame.
 */
import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useUploadSelector, type UploadStore } from '../../src/react/index.js';

type FrameCounts = Map<number, number>;

/** The measured component: subscribed to the bytes sent, nothing else. */
const Probe = memo(function Probe({ store, counts }: { store: UploadStore; counts: FrameCounts }) {
  const bytes = useUploadSelector(store, (s) => s.context.files.reduce((n, f) => n + f.bytesSent, 0));
  useLayoutEffect(() => {
    const frame = Number(document.timeline.currentTime ?? performance.now());
    counts.set(frame, (counts.get(frame) ?? 0) + 1);
  });
  return <span data-testid="render-meter-bytes">{bytes.toLocaleString('en')} B</span>;
});

/** Shows the counts from a timer, so showing them adds no render to the measured ones. */
function Display({ counts, progressEvents }: { counts: FrameCounts; progressEvents: () => number }) {
  const [stats, setStats] = useState({ renders: 0, frames: 0, maxPerFrame: 0, events: 0, elapsed: 0 });
  useEffect(() => {
    let elapsed = 0;
    let raf = requestAnimationFrame(function count() {
      elapsed++;
      raf = requestAnimationFrame(count);
    });
    const timer = setInterval(() => {
      const values = [...counts.values()];
      setStats({
        renders: values.reduce((a, b) => a + b, 0),
        frames: values.length,
        maxPerFrame: Math.max(0, ...values),
        events: progressEvents(),
        elapsed,
      });
    }, 250);
    return () => {
      clearInterval(timer);
      cancelAnimationFrame(raf);
    };
  }, [counts, progressEvents]);
  return (
    <span
      data-testid="render-meter"
      data-renders={stats.renders}
      data-max-per-frame={stats.maxPerFrame}
      data-events={stats.events}
      data-frames-elapsed={stats.elapsed}
    >
      {stats.events.toLocaleString('en')} progress events → {stats.renders} renders in {stats.frames} frames
      (of {stats.elapsed} elapsed), at most {stats.maxPerFrame} per frame
    </span>
  );
}

export function RenderMeter({ store, progressEvents }: { store: UploadStore; progressEvents: () => number }) {
  const counts = useRef<FrameCounts>(new Map()).current;
  return (
    <p style={{ font: '12px system-ui', color: '#555' }}>
      render meter: <Display counts={counts} progressEvents={progressEvents} /> ·{' '}
      <Probe store={store} counts={counts} />
    </p>
  );
}

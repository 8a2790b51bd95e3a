/**
 * Processing, live (issue 15): a kind with required processors in the page's PGlite, a worker
 * running in this tab (`runWorker` over `sqlProcessingPort`), and `useUploadLifecycle` watching the
 * entity through `processing` until the database settles it. Three processors: `sha256` (checks the
 * hash the client declared), `slow` (a second and a half of work, so `processing` is visible) and
 * an optional `thumbnail` of the cover image, made by the browser (decoded, fitted, re-encoded as
 * WebP on an OffscreenCanvas) and shown once the worker stored it.
 */
import { useEffect, useMemo, useState } from 'react';
import { createPgliteBackend, type PgliteBackend } from '../../src/adapters/pglite.js';
import { useUploadLifecycle } from '../../src/react/index.js';
import {
  defineProcessor,
  ProcessingRejectedError,
  runWorker,
  sha256Processor,
  sqlProcessingPort,
  type WorkerReport,
} from '../../src/workers/index.js';
import { demoDatabase, type DemoDatabase } from './database.js';
import { samplePdf } from './samples.js';

export const PROCESSING_KIND = 'checked_report';

/** The box the thumbnail is fitted into (aspect ratio kept). */
export const THUMBNAIL_BOX = 96;

/** A real photo-like PNG drawn in the page (a gradient and a label), `width` × `height`. */
async function drawnPng(width: number, height: number): Promise<File> {
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d')!;
  const gradient = g.createLinearGradient(0, 0, width, height);
  gradient.addColorStop(0, '#1d4ed8');
  gradient.addColorStop(1, '#f59e0b');
  g.fillStyle = gradient;
  g.fillRect(0, 0, width, height);
  g.fillStyle = '#fff';
  g.font = `bold ${Math.round(height / 8)}px system-ui`;
  g.fillText('upload-lifecycle', width / 12, height / 2);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new File([blob], 'cover.png', { type: 'image/png' });
}
const slow = defineProcessor({
  name: 'slow',
  run: ({ signal }) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ result: { ms: 1500 } }), 1500);
      signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)));
    }),
});

/**
 * The browser's thumbnail maker: the image decoded by the browser (`createImageBitmap`), drawn
 * fitted into {@link THUMBNAIL_BOX} on an `OffscreenCanvas`, stored as a WebP variant. (A Node
 * worker uses `thumbnailProcessor`, with sharp; the page has no sharp.) Bytes the browser cannot
 * decode are a rejection: only this optional job dies.
 */
const thumbnail = defineProcessor({
  name: 'thumbnail',
  required: false,
  async run({ job, read, putArtifact }) {
    const source = await new Response(await read()).blob();
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([source], { type: job.mime }));
    } catch (error) {
      throw new ProcessingRejectedError(
        `file ${job.fileId}: not an image the browser can decode`,
        String(error),
      );
    }
    const scale = Math.min(1, THUMBNAIL_BOX / bitmap.width, THUMBNAIL_BOX / bitmap.height);
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    const webp = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/webp' })).arrayBuffer());
    const artifact = await putArtifact('thumbnail', webp, 'image/webp');
    return { artifacts: [artifact], result: { width, height } };
  },
});

/** The kind: one PDF, checked by the required processors, and an optional cover image with its thumbnail. */
async function defineProcessingKind({ sql }: DemoDatabase): Promise<void> {
  await sql.query(
    `insert into upload_lifecycle.entity_kinds (kind, bucket_id, max_attempts)
     values ($1, 'checked-report-files', 3) on conflict do nothing`,
    [PROCESSING_KIND],
  );
  for (const [slot, min, mimes] of [
    ['document', 1, ['application/pdf']],
    ['preview', 0, ['image/*']],
  ] as const) {
    await sql.query(
      `insert into upload_lifecycle.file_requirements (kind, slot, min_count, max_count, max_bytes, allowed_mime_types)
       values ($1, $2, $3, 1, 2000000, $4) on conflict do nothing`,
      [PROCESSING_KIND, slot, min, mimes],
    );
  }
  for (const [processor, slot, required] of [
    ['sha256', 'document', true],
    ['slow', 'document', true],
    ['thumbnail', 'preview', false],
  ] as const) {
    await sql.query(
      `insert into upload_lifecycle.kind_processors (kind, processor, slot, required, max_attempts)
       values ($1, $2, $3, $4, 1) on conflict do nothing`,
      [PROCESSING_KIND, processor, slot, required],
    );
  }
}

function Upload({ backend, onReport }: { backend: PgliteBackend; onReport(): WorkerReport | null }) {
  const upload = useUploadLifecycle({
    backend,
    kind: PROCESSING_KIND,
    sha256: true,
    watchIntervalsMs: [100, 200, 400],
  });
  const send = async (wrongChecksum: boolean) => {
    const file = samplePdf(200_000, wrongChecksum ? 'tampered.pdf' : 'checked.pdf');
    const cover = await drawnPng(480, 320);
    upload.addFiles([
      {
        slot: 'document',
        body: file,
        name: file.name,
        type: file.type,
        key: 'doc',
        // Declared by hand: not the hash of these bytes, so the sha256 processor rejects them.
        ...(wrongChecksum && { sha256: 'f'.repeat(64) }),
      },
      { slot: 'preview', body: cover, name: cover.name, type: cover.type, key: 'cover' },
    ]);
    upload.start();
  };
  const jobs = Object.values(upload.jobs).flat();
  const variant = (upload.jobs.cover ?? []).find((j) => j.processor === 'thumbnail')?.artifacts[0];
  const thumbnailUrl = useMemo(() => {
    const bytes = variant && backend.objects.get(`${variant.bucketId}/${variant.objectPath}`);
    return bytes
      ? URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: variant.contentType }))
      : null;
  }, [backend, variant]);
  useEffect(() => () => void (thumbnailUrl && URL.revokeObjectURL(thumbnailUrl)), [thumbnailUrl]);
  const report = onReport();
  return (
    <section>
      <p>
        <button type="button" onClick={() => void send(false)} disabled={upload.status !== 'idle'}>
          Upload a checked PDF
        </button>{' '}
        <button type="button" onClick={() => void send(true)} disabled={upload.status !== 'idle'}>
          Upload with a wrong checksum
        </button>
      </p>
      <p>
        Status: <strong data-testid="processing-status">{upload.status}</strong>
      </p>
      <ul data-testid="processing-jobs">
        {jobs.map((j) => (
          <li key={j.processor}>
            {j.processor}
            {j.required ? '' : ' (optional)'}: {j.status}
            {j.lastError ? ` — ${String((j.lastError as { message?: unknown }).message ?? '')}` : ''}
          </li>
        ))}
      </ul>
      {upload.error && <p data-testid="processing-error">{upload.error.message}</p>}
      {thumbnailUrl && (
        <figure>
          <img data-testid="thumbnail" src={thumbnailUrl} alt="the cover's thumbnail, made by the worker" />
          <figcaption>
            thumbnail variant: {variant!.contentType}, {variant!.size} bytes
          </figcaption>
        </figure>
      )}
      <p data-testid="worker-report">
        {report ? `worker: ${report.completed} complete, ${report.failed} failed` : 'worker: starting'}
      </p>
    </section>
  );
}

export function ProcessingDemo() {
  const [ready, setReady] = useState<{ backend: PgliteBackend; report(): WorkerReport | null } | null>(null);
  const [round, setRound] = useState(0);
  const [, tick] = useState(0);
  useEffect(() => {
    let stop = () => {};
    let cancelled = false;
    void (async () => {
      const database = await demoDatabase();
      await defineProcessingKind(database);
      if (cancelled) return;
      const backend = createPgliteBackend(database.db, { userId: database.userId });
      const worker = runWorker({
        port: sqlProcessingPort(database.sql, backend.objects),
        processors: [sha256Processor, slow, thumbnail],
        concurrency: 3,
        pollIntervalMs: 200,
      });
      const timer = setInterval(() => tick((n) => n + 1), 250);
      stop = () => {
        clearInterval(timer);
        void worker.stop({ graceMs: 0 });
      };
      setReady({ backend, report: () => worker.report });
    })();
    return () => {
      cancelled = true;
      stop();
    };
  }, []);
  if (!ready) return <p>Opening the database (PGlite, every migration)…</p>;
  return (
    <main style={{ font: '14px system-ui', padding: 16 }}>
      <h2 data-testid="processing-ready">Processing: the database decides when an upload is complete</h2>
      <Upload key={round} backend={ready.backend} onReport={ready.report} />
      <button type="button" onClick={() => setRound((r) => r + 1)}>
        Start over
      </button>
    </main>
  );
}

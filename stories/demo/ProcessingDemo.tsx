/**
 * Processing, live (issue 15): a kind with required processors in the page's PGlite, a worker
 * running in this tab (`runWorker` over `sqlProcessingPort`), and `useUploadLifecycle` watching the
 * entity through `processing` until the database settles it. Three processors: `sha256` (checks the
 * hash the client declared), `slow` (a second and a half of work, so `processing` is visible) and
 * an optional `thumbnail` that stores a variant after the upload completed.
 */
import { useEffect, useState } from 'react';
import { createPgliteBackend, type PgliteBackend } from '../../src/adapters/pglite.js';
import { useUploadLifecycle } from '../../src/react/index.js';
import {
  defineProcessor,
  runWorker,
  sha256Processor,
  sqlProcessingPort,
  type WorkerReport,
} from '../../src/workers/index.js';
import { demoDatabase, type DemoDatabase } from './database.js';
import { samplePdf } from './samples.js';

export const PROCESSING_KIND = 'checked_report';

/** A 1×1 PNG: the "thumbnail" the optional processor stores as a variant. */
const THUMBNAIL = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='),
  (c) => c.charCodeAt(0),
);

const slow = defineProcessor({
  name: 'slow',
  run: ({ signal }) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ result: { ms: 1500 } }), 1500);
      signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)));
    }),
});

const thumbnail = defineProcessor({
  name: 'thumbnail',
  required: false,
  run: async ({ putArtifact }) => ({ artifacts: [await putArtifact('thumb', THUMBNAIL, 'image/png')] }),
});

/** The kind: one PDF (and an optional image slot, so the bucket takes the PNG variant). */
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
  for (const [processor, required] of [
    ['sha256', true],
    ['slow', true],
    ['thumbnail', false],
  ] as const) {
    await sql.query(
      `insert into upload_lifecycle.kind_processors (kind, processor, slot, required, max_attempts)
       values ($1, $2, 'document', $3, 1) on conflict do nothing`,
      [PROCESSING_KIND, processor, required],
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
  const send = (wrongChecksum: boolean) => {
    const file = samplePdf(200_000, wrongChecksum ? 'tampered.pdf' : 'checked.pdf');
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
    ]);
    upload.start();
  };
  const jobs = Object.values(upload.jobs).flat();
  const report = onReport();
  return (
    <section>
      <p>
        <button type="button" onClick={() => send(false)} disabled={upload.status !== 'idle'}>
          Upload a checked PDF
        </button>{' '}
        <button type="button" onClick={() => send(true)} disabled={upload.status !== 'idle'}>
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

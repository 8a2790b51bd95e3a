/**
 * The processing worker's own behaviour, on an in-memory port that keeps leases the way the
 * database does (a claim holds a job until its lease ends; a close by a worker not holding it is
 * refused). The database side of the same rules is tested in test/processing/*.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { sha256Processor, typeProcessor } from '../../src/workers/builtin.js';
import {
  defineProcessor,
  ProcessingRejectedError,
  runWorker,
  type JobError,
  type ProcessingJob,
  type ProcessingPort,
  type ProcessorContext,
} from '../../src/workers/processing.js';

interface FakeJob {
  job: ProcessingJob;
  status: 'pending' | 'running' | 'complete' | 'failed';
  holder: string | null;
  leaseUntil: number;
  closes: number;
  error?: JobError;
  retryable?: boolean;
  result?: Record<string, unknown>;
}

/** A real 1×1 PNG. */
const PNG = Uint8Array.from(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
);

function fakePort(objects: Map<string, Uint8Array>, clock: { now: number }) {
  const jobs = new Map<string, FakeJob>();
  let claims = 0;
  const held = (j: FakeJob, workerId: string) =>
    j.status === 'running' && j.holder === workerId && j.leaseUntil > clock.now;
  const port: ProcessingPort = {
    async claim(workerId, maxJobs, leaseSeconds, processors) {
      claims++;
      const out: ProcessingJob[] = [];
      for (const j of jobs.values()) {
        if (out.length >= maxJobs) break;
        const free = j.status === 'pending' || (j.status === 'running' && j.leaseUntil <= clock.now);
        if (free && processors.includes(j.job.processor)) {
          j.status = 'running';
          j.holder = workerId;
          j.leaseUntil = clock.now + leaseSeconds * 1000;
          out.push(j.job);
        }
      }
      return out;
    },
    async extend(workerId, ids, leaseSeconds) {
      return ids.filter((id) => {
        const j = jobs.get(id)!;
        if (!held(j, workerId)) return false;
        j.leaseUntil = clock.now + leaseSeconds * 1000;
        return true;
      });
    },
    async complete(jobId, workerId, outcome) {
      const j = jobs.get(jobId)!;
      if (!held(j, workerId)) throw new Error(`lease of ${jobId} not held by ${workerId}`);
      j.status = 'complete';
      j.closes++;
      j.result = outcome.result;
    },
    async fail(jobId, workerId, error, retryable) {
      const j = jobs.get(jobId)!;
      if (!held(j, workerId)) throw new Error(`lease of ${jobId} not held by ${workerId}`);
      j.status = 'failed';
      j.closes++;
      j.error = error;
      j.retryable = retryable;
    },
    async openObject(bucketId, objectPath) {
      const bytes = objects.get(`${bucketId}/${objectPath}`);
      if (!bytes) throw new Error('no such object');
      // Two chunks, to exercise streaming.
      const cut = Math.floor(bytes.length / 2);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.slice(0, cut));
          controller.enqueue(bytes.slice(cut));
          controller.close();
        },
      });
    },
    async putObject(bucketId, objectPath, bytes) {
      objects.set(`${bucketId}/${objectPath}`, bytes);
    },
  };
  const add = (n: number, processor: string, over: Partial<ProcessingJob> = {}) => {
    for (let i = 0; i < n; i++) {
      const id = `${processor}-${jobs.size}`;
      jobs.set(id, {
        job: {
          id,
          processor,
          entityId: 'e',
          fileId: `f${jobs.size}`,
          slot: 'doc',
          bucketId: 'b',
          objectPath: `o/${id}`,
          size: 16,
          mime: 'image/png',
          sha256: null,
          allowedMimeTypes: null,
          attempt: 1,
          ...over,
        },
        status: 'pending',
        holder: null,
        leaseUntil: 0,
        closes: 0,
      });
    }
  };
  return { port, jobs, add, claims: () => claims };
}

const job = (over: Partial<ProcessingJob> = {}): ProcessingJob => ({
  id: 'j',
  processor: 'x',
  entityId: 'e',
  fileId: 'f1',
  slot: 'doc',
  bucketId: 'b',
  objectPath: 'p',
  size: 16,
  mime: 'image/png',
  sha256: null,
  allowedMimeTypes: null,
  attempt: 1,
  ...over,
});

function contextFor(bytes: Uint8Array, over: Partial<ProcessingJob> = {}): ProcessorContext {
  return {
    job: job({ size: bytes.length, ...over }),
    signal: new AbortController().signal,
    read: async () => new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(),
    head: async (n) => bytes.slice(0, n),
    putArtifact: async () => {
      throw new Error('not here');
    },
  };
}

describe('built-in processors', () => {
  it('sha256: the declared hash of the stored bytes passes, another is a rejection naming the file', async () => {
    const bytes = new TextEncoder().encode('hello processing');
    const hex = createHash('sha256').update(bytes).digest('hex');
    await expect(sha256Processor.run(contextFor(bytes, { sha256: hex }))).resolves.toMatchObject({
      result: { sha256: hex, declared: true, size: bytes.length },
    });
    const wrong = 'f'.repeat(64);
    const run = sha256Processor.run(contextFor(bytes, { sha256: wrong, fileId: 'file-42' }));
    await expect(run).rejects.toBeInstanceOf(ProcessingRejectedError);
    await expect(
      sha256Processor.run(contextFor(bytes, { sha256: wrong, fileId: 'file-42' })),
    ).rejects.toThrow(/file-42.*SHA-256 [0-9a-f]{64}.*declared f{64}/);
  });

  it('sha256: without a declared hash, records the computed one', async () => {
    const bytes = new Uint8Array(100_000).fill(7);
    await expect(sha256Processor.run(contextFor(bytes))).resolves.toMatchObject({
      result: { sha256: createHash('sha256').update(bytes).digest('hex'), declared: false },
    });
  });

  it('type: a PNG declared image/png passes; the same bytes declared application/pdf are rejected', async () => {
    await expect(typeProcessor.run(contextFor(PNG, { mime: 'image/png' }))).resolves.toMatchObject({
      result: { detected: 'image/png' },
    });
    await expect(typeProcessor.run(contextFor(PNG, { mime: 'application/pdf' }))).rejects.toThrow(
      /declared application\/pdf, but the stored bytes are image\/png/,
    );
  });

  it('type: a declared type with a signature but bytes without one is rejected; text passes', async () => {
    const text = new TextEncoder().encode('just some words, no magic number here');
    await expect(typeProcessor.run(contextFor(text, { mime: 'image/png' }))).rejects.toBeInstanceOf(
      ProcessingRejectedError,
    );
    await expect(typeProcessor.run(contextFor(text, { mime: 'text/plain' }))).resolves.toMatchObject({
      result: { detected: null },
    });
  });

  it('type: the detected type must be allowed by the slot', async () => {
    await expect(
      typeProcessor.run(contextFor(PNG, { mime: 'image/png', allowedMimeTypes: ['application/pdf'] })),
    ).rejects.toThrow(/image\/png is not allowed in slot doc/);
    await expect(
      typeProcessor.run(contextFor(PNG, { mime: 'image/png', allowedMimeTypes: ['image/*'] })),
    ).resolves.toBeDefined();
  });
});

describe('runWorker', () => {
  it('runs every claimable job once, at most `concurrency` at a time, and stops when idle', async () => {
    const clock = { now: 0 };
    const fake = fakePort(new Map(), clock);
    fake.add(7, 'slow');
    let live = 0;
    let peak = 0;
    const slow = defineProcessor({
      name: 'slow',
      async run() {
        live++;
        peak = Math.max(peak, live);
        await new Promise((r) => setTimeout(r, 5));
        live--;
        return { result: { ok: true } };
      },
    });
    const report = await runWorker({ port: fake.port, processors: [slow], concurrency: 3, untilIdle: true })
      .done;
    expect(report).toMatchObject({ claimed: 7, completed: 7, failed: 0, lost: 0 });
    expect(peak).toBe(3);
    expect([...fake.jobs.values()].map((j) => [j.status, j.closes])).toEqual(
      Array.from({ length: 7 }, () => ['complete', 1]),
    );
  });

  it('claims only its processors’ jobs', async () => {
    const clock = { now: 0 };
    const fake = fakePort(new Map(), clock);
    fake.add(2, 'mine');
    fake.add(2, 'theirs');
    const mine = defineProcessor({ name: 'mine', run: async () => ({}) });
    await runWorker({ port: fake.port, processors: [mine], untilIdle: true }).done;
    expect([...fake.jobs.values()].map((j) => `${j.job.processor}:${j.status}`)).toEqual([
      'mine:complete',
      'mine:complete',
      'theirs:pending',
      'theirs:pending',
    ]);
  });

  it('a rejection fails the job for good; a crash fails it retryable; both keep the error', async () => {
    const clock = { now: 0 };
    const fake = fakePort(new Map(), clock);
    fake.add(1, 'verdict');
    fake.add(1, 'crash');
    const verdict = defineProcessor({
      name: 'verdict',
      run: async () => {
        throw new ProcessingRejectedError('bad bytes', 'why');
      },
    });
    const crash = defineProcessor({
      name: 'crash',
      run: async () => {
        throw new TypeError('oops');
      },
    });
    const report = await runWorker({ port: fake.port, processors: [verdict, crash], untilIdle: true }).done;
    expect(report).toMatchObject({ claimed: 2, completed: 0, failed: 2 });
    const [v, c] = [...fake.jobs.values()];
    expect(v).toMatchObject({
      status: 'failed',
      retryable: false,
      error: { message: 'bad bytes', detail: 'why' },
    });
    expect(c).toMatchObject({
      status: 'failed',
      retryable: true,
      error: { name: 'TypeError', message: 'oops' },
    });
  });

  it('a job whose lease was lost is aborted at the heartbeat and never closed by the late worker', async () => {
    const clock = { now: 0 };
    const fake = fakePort(new Map(), clock);
    fake.add(1, 'stuck');
    let aborted = false;
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const stuck = defineProcessor({
      name: 'stuck',
      run: ({ signal }) =>
        new Promise((_, reject) => {
          markStarted();
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason as Error);
          });
        }),
    });
    // Lease 3 s → a heartbeat every 1 s. The clock jumps past the lease and another worker claims.
    const worker = runWorker({ port: fake.port, processors: [stuck], leaseSeconds: 3, pollIntervalMs: 10 });
    await started;
    clock.now += 10_000;
    const other = await fake.port.claim('other', 1, 60, ['stuck']);
    expect(other).toHaveLength(1);
    await vi.waitFor(() => expect(aborted).toBe(true), { timeout: 10_000 });
    const report = await worker.stop({ graceMs: 0 });
    expect(report).toMatchObject({ completed: 0, failed: 0, lost: 1 });
    const [j] = [...fake.jobs.values()];
    expect(j).toMatchObject({ status: 'running', holder: 'other', closes: 0 });
  });

  it('stop() stops claiming, lets running jobs finish within the grace period', async () => {
    const clock = { now: 0 };
    const fake = fakePort(new Map(), clock);
    fake.add(5, 'p');
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let runs = 0;
    const p = defineProcessor({
      name: 'p',
      async run() {
        runs++;
        await gate;
        return {};
      },
    });
    const worker = runWorker({ port: fake.port, processors: [p], concurrency: 2, pollIntervalMs: 10 });
    await vi.waitFor(() => expect(runs).toBe(2));
    const stopped = worker.stop({ graceMs: 5_000 });
    open();
    const report = await stopped;
    expect(report).toMatchObject({ claimed: 2, completed: 2 });
    expect([...fake.jobs.values()].filter((j) => j.status === 'pending')).toHaveLength(3);
  });

  it('maxJobs bounds one run (an Edge Function call)', async () => {
    const clock = { now: 0 };
    const fake = fakePort(new Map(), clock);
    fake.add(5, 'p');
    const p = defineProcessor({ name: 'p', run: async () => ({}) });
    const report = await runWorker({ port: fake.port, processors: [p], untilIdle: true, maxJobs: 3 }).done;
    expect(report).toMatchObject({ claimed: 3, completed: 3 });
  });

  it('artifacts are stored next to the file and recorded with size and hash', async () => {
    const clock = { now: 0 };
    const objects = new Map<string, Uint8Array>();
    const fake = fakePort(objects, clock);
    fake.add(1, 'thumb');
    const thumb = defineProcessor({
      name: 'thumb',
      required: false,
      async run({ putArtifact }) {
        return { artifacts: [await putArtifact('small', new Uint8Array([1, 2, 3]), 'image/webp')] };
      },
    });
    expect(thumb.required).toBe(false);
    let recorded: unknown;
    const port = {
      ...fake.port,
      complete: async (id: string, w: string, outcome: { result: object; artifacts: unknown[] }) => {
        recorded = outcome.artifacts;
        await fake.port.complete(id, w, outcome as never);
      },
    };
    await runWorker({ port, processors: [thumb], untilIdle: true }).done;
    expect(recorded).toEqual([
      {
        variant: 'small',
        bucketId: 'b',
        objectPath: 'o/thumb-0.small',
        size: 3,
        contentType: 'image/webp',
        sha256: createHash('sha256')
          .update(new Uint8Array([1, 2, 3]))
          .digest('hex'),
      },
    ]);
    expect(objects.get('b/o/thumb-0.small')).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('refuses a bad name, a bad concurrency and two processors of one name', () => {
    expect(() => defineProcessor({ name: 'Bad Name', run: async () => ({}) })).toThrow(RangeError);
    const p = defineProcessor({ name: 'p', run: async () => ({}) });
    const port = fakePort(new Map(), { now: 0 }).port;
    expect(() => runWorker({ port, processors: [p], concurrency: 0 })).toThrow(RangeError);
    expect(() => runWorker({ port, processors: [p, p] })).toThrow(/share a name/);
  });
});

/**
 * `npm run demo`: the whole lifecycle end to end on the embedded default — PGlite running the
 * real migrations (with the Supabase shim), a local Supabase (PostgREST-style RPC + Storage with
 * tus resumable uploads, on 127.0.0.1), supabase-js and the upload machine. Nothing to start by
 * hand; a processing worker runs in the same process. Each scenario prints its transitions; the run ends with a summary table and exits 0 only
 * if every step behaved as designed. Plain output when stdout is not a TTY.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { createClient } from '@supabase/supabase-js';
import { createActor, waitFor, type Actor } from 'xstate';
import { applyMigrations } from '../db/migrate.js';
import { fromPglite, withActor, type SqlClient } from '../db/client.js';
import { createSupabaseBackend } from '../adapters/supabase.js';
import { createUploadMachine, type UploadMachine } from '../machines/upload.js';
import { selectPhase, selectProgress } from '../machines/upload-selectors.js';
import { isUploadLifecycleError, toUploadLifecycleError } from '../errors.js';
import { startLocalSupabase } from '../server/local-supabase.js';
import { startFaultProxy } from '../server/fault-proxy.js';
import { runWorker, sha256Processor, typeProcessor } from '../workers/index.js';

const MB = 1024 * 1024;
const tty = process.stdout.isTTY === true;
const color = (code: number) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const green = color(32);
const red = color(31);
const dim = color(2);
const bold = color(1);

interface Outcome {
  scenario: string;
  expected: string;
  observed: string;
  ok: boolean;
}
const outcomes: Outcome[] = [];
function record(scenario: string, expected: string, observed: string, ok: boolean) {
  outcomes.push({ scenario, expected, observed, ok });
  console.log(`  ${ok ? green('✓') : red('✗')} ${expected} ${dim(`(${observed})`)}`);
}

/** Deterministic bytes, so every run uploads the same content. */
function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// --- the embedded stack -------------------------------------------------------------------------
const pglite = await PGlite.create();
await applyMigrations(pglite, { supabaseShim: true });
const db: SqlClient = fromPglite(pglite);
const directory = await mkdtemp(join(tmpdir(), 'upload-lifecycle-demo-'));
const local = await startLocalSupabase(db, { directory });
const userId = randomUUID();
await db.query(`insert into auth.users (id, email) values ($1, 'demo@example.test')`, [userId]);

// A kind of record that owns files: one PDF (required) and up to three photos. The bucket,
// with its size limit and allowed types, follows from these rows.
await withActor(db, { role: 'service_role' }, async (tx) => {
  await tx.query(
    `insert into upload_lifecycle.entity_kinds (kind, bucket_id, max_attempts) values ('report', 'reports', 3)`,
  );
  await tx.query(`insert into upload_lifecycle.file_requirements (kind, slot, min_count, max_count, max_bytes, allowed_mime_types) values
    ('report', 'document', 1, 1, 64 * 1024 * 1024, array['application/pdf']),
    ('report', 'photos', 0, 3, 16 * 1024 * 1024, array['image/*'])`);
});

const supabase = createClient(local.url, local.anonKey, {
  accessToken: async () => local.tokenFor(userId),
  realtime: { transport: NoRealtime as never },
});
function NoRealtime() {
  throw new Error('realtime is not used by the demo');
}

const RETRY = { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, factor: 2, jitter: 0.5 };

async function auditLog(entityId: string): Promise<string[]> {
  const { rows } = await db.query<{ event: string; from_status: string | null; to_status: string | null }>(
    `select event, from_status, to_status from upload_lifecycle.entity_events where entity_id = $1 order by id`,
    [entityId],
  );
  return rows.map((r) => `${r.from_status ?? '∅'} → ${r.to_status ?? '∅'} (${r.event})`);
}

async function printAudit(entityId: string) {
  for (const line of await auditLog(entityId)) console.log(dim(`    db: ${line}`));
}

async function dbStatus(entityId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>(
    `select status from upload_lifecycle.entities where id = $1`,
    [entityId],
  );
  return rows[0]?.status;
}

/** Prints the machine's phase changes and, per file, progress (bars on a TTY, quarters otherwise). */
function watch(actor: Actor<UploadMachine>) {
  let phase = '';
  const quarters = new Map<string, number>();
  let lastDraw = 0;
  return actor.subscribe((snapshot) => {
    const next = selectPhase(snapshot);
    if (next !== phase) {
      if (tty && lastDraw) process.stdout.write('\n');
      lastDraw = 0;
      console.log(`    machine: ${phase || 'idle'} → ${bold(next)}`);
      phase = next;
    }
    if (next !== 'uploading') return;
    for (const f of snapshot.context.files) {
      const q = Math.floor((Math.min(f.bytesSent, f.size) / f.size) * 4);
      if ((quarters.get(f.key) ?? -1) < q) {
        quarters.set(f.key, q);
        if (!tty) console.log(`    ${f.name.padEnd(12)} ${String(q * 25).padStart(3)}%`);
      }
    }
    if (tty && Date.now() - lastDraw > 50) {
      const p = selectProgress(snapshot);
      const width = 30;
      const filled = Math.round(p.fraction * width);
      const files = snapshot.context.files
        .map((f) => `${f.name} ${Math.round((Math.min(f.bytesSent, f.size) / f.size) * 100)}%`)
        .join('  ');
      process.stdout.write(`\r    [${'█'.repeat(filled)}${' '.repeat(width - filled)}] ${files}   `);
      lastDraw = Date.now();
    }
  });
}

async function settle(actor: Actor<UploadMachine>) {
  return waitFor(actor, (s) => ['completed', 'failed', 'suspended'].includes(selectPhase(s)), {
    timeout: 60_000,
  });
}

// --- scenarios ----------------------------------------------------------------------------------
async function happyPath() {
  console.log(bold('\n1. create → upload three files in parallel → finalize → completed'));
  const backend = createSupabaseBackend(supabase, { resumableThreshold: 0 });
  const actor = createActor(createUploadMachine({ backend }), {
    input: { kind: 'report', metadata: { title: 'Q3 report' }, concurrency: 3, retry: RETRY },
  }).start();
  const sub = watch(actor);
  actor.send({ type: 'CREATE' });
  actor.send({
    type: 'ADD_FILES',
    files: [
      { slot: 'document', body: bytes(9 * MB, 1), name: 'report.pdf', type: 'application/pdf' },
      { slot: 'photos', body: bytes(3 * MB, 2), name: 'chart.png', type: 'image/png' },
      { slot: 'photos', body: bytes(2 * MB, 3), name: 'team.jpg', type: 'image/jpeg' },
    ],
  });
  await waitFor(actor, (s) => selectPhase(s) === 'draft');
  actor.send({ type: 'START' });
  const done = await settle(actor);
  sub.unsubscribe();
  actor.stop();
  const id = done.context.entityId!;
  await printAudit(id);
  const status = await dbStatus(id);
  record('happy path', 'the database says completed', `status ${status}`, status === 'completed');
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from upload_lifecycle.entity_files where entity_id = $1 and verified_at is not null`,
    [id],
  );
  record('happy path', 'all three files verified by finalize', `${rows[0]!.n} verified`, rows[0]!.n === 3);
  return id;
}

async function droppedConnection() {
  console.log(bold('\n2. a connection dropped mid-file resumes from the last acknowledged chunk'));
  const proxy = await startFaultProxy(local.port);
  try {
    const backend = createSupabaseBackend(supabase, { resumableThreshold: 0, url: proxy.url });
    const actor = createActor(createUploadMachine({ backend }), {
      input: { kind: 'report', metadata: { title: 'resumed' }, retry: RETRY },
    }).start();
    const sub = watch(actor);
    const body = bytes(14 * MB, 4);
    actor.send({ type: 'CREATE' });
    actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body, name: 'big.pdf', type: 'application/pdf' }],
    });
    await waitFor(actor, (s) => selectPhase(s) === 'draft');
    proxy.killAfter(Math.round(10.5 * MB));
    console.log(dim(`    (the connection will be cut after 10.5 MB)`));
    actor.send({ type: 'START' });
    const done = await settle(actor);
    sub.unsubscribe();
    actor.stop();
    const id = done.context.entityId!;
    await printAudit(id);
    record('dropped connection', 'the connection was cut once', `${proxy.kills} cut(s)`, proxy.kills === 1);
    const overhead = proxy.upstreamBytes - body.length;
    record(
      'dropped connection',
      'finished chunks were not sent again (< one 6 MB chunk of extra bytes)',
      `${(overhead / MB).toFixed(2)} MB over the file size`,
      overhead < 6 * MB,
    );
    const status = await dbStatus(id);
    record('dropped connection', 'and the entity completed', `status ${status}`, status === 'completed');
  } finally {
    await proxy.close();
  }
}

async function failureAndRetry() {
  console.log(bold('\n3. validation refuses bad input before any byte; a failed upload recovers with retry'));
  const backend = createSupabaseBackend(supabase, { resumableThreshold: 0 });
  const requestsBefore = local.log.length;
  const bad = createActor(createUploadMachine({ backend }), {
    input: { kind: 'report', retry: RETRY },
  }).start();
  bad.send({ type: 'CREATE' });
  await waitFor(bad, (s) => selectPhase(s) === 'draft');
  const createRequests = local.log.length - requestsBefore;
  bad.send({
    type: 'ADD_FILES',
    files: [{ slot: 'document', body: bytes(1000, 5), name: 'notes.txt', type: 'text/plain' }],
  });
  const refused = bad.getSnapshot();
  const error = refused.context.error;
  const storageRequests = local.log
    .slice(requestsBefore + createRequests)
    .filter((r) => r.path.includes('/storage/')).length;
  record(
    'validation',
    'a text file in the PDF slot is refused with UL004 before any byte',
    `${error?.code ?? 'no error'}, ${storageRequests} storage request(s)`,
    error?.code === 'UL004' && storageRequests === 0,
  );
  bad.stop();

  const proxy = await startFaultProxy(local.port);
  try {
    const flaky = createSupabaseBackend(supabase, { resumableThreshold: 0, url: proxy.url });
    const actor = createActor(createUploadMachine({ backend: flaky }), {
      input: { kind: 'report', metadata: { title: 'flaky network' }, retry: RETRY },
    }).start();
    const sub = watch(actor);
    actor.send({ type: 'CREATE' });
    actor.send({
      type: 'ADD_FILES',
      files: [{ slot: 'document', body: bytes(2 * MB, 6), name: 'scan.pdf', type: 'application/pdf' }],
    });
    await waitFor(actor, (s) => selectPhase(s) === 'draft');
    console.log(dim(`    (every try of the file is cut: ${RETRY.attempts} tries)`));
    const cut = () => proxy.killAfter(1000);
    cut();
    const recut = actor.subscribe((s) => {
      if (s.context.files[0] && s.context.files[0].status === 'retrying') cut();
    });
    actor.send({ type: 'START' });
    const failed = await settle(actor);
    recut.unsubscribe();
    const id = failed.context.entityId!;
    const afterFailure = await dbStatus(id);
    record(
      'retry',
      'repeated drops end in failed, recorded by the database',
      `status ${afterFailure}`,
      afterFailure === 'failed',
    );
    actor.send({ type: 'RETRY' });
    const done = await settle(actor);
    sub.unsubscribe();
    actor.stop();
    await printAudit(id);
    const status = await dbStatus(id);
    record(
      'retry',
      'RETRY starts attempt 2 and completes',
      `status ${status}, attempt ${done.context.attempt}`,
      status === 'completed' && done.context.attempt === 2,
    );
    return id;
  } finally {
    await proxy.close();
  }
}

async function forbiddenTransition(completedId: string) {
  console.log(bold('\n4. a forbidden transition attempted directly in SQL is refused'));
  for (const [role, to] of [
    ['service_role', 'draft'],
    ['superuser', 'uploading'],
  ] as const) {
    console.log(
      dim(
        `    as ${role}: update upload_lifecycle.entities set status = '${to}' where id = '${completedId}'`,
      ),
    );
    const attempt = withActor(db, role === 'service_role' ? { role } : { role: 'superuser' }, (tx) =>
      tx.query(`update upload_lifecycle.entities set status = $2 where id = $1`, [completedId, to]),
    ).then(
      () => null,
      (e: unknown) => toUploadLifecycleError(e),
    );
    const error = await attempt;
    if (error) console.log(dim(`    → ${error.code} ${error.name}: ${error.message}`));
    record(
      'forbidden transition',
      `completed → ${to} as ${role} refused with UL001`,
      error ? `${error.code}` : 'accepted!',
      error?.code === 'UL001',
    );
  }
  const status = await dbStatus(completedId);
  record('forbidden transition', 'the row is still completed', `status ${status}`, status === 'completed');
}

async function sweepAbandonedDraft() {
  console.log(bold('\n5. an abandoned draft is swept once its TTL has passed'));
  const backend = createSupabaseBackend(supabase);
  const draft = await backend.createDraft({ kind: 'report', metadata: { title: 'abandoned' } });
  console.log(dim(`    created draft ${draft.entityId}; running the sweep as if 2 days had passed`));
  const { rows } = await withActor(db, { role: 'service_role' }, (tx) =>
    tx.query<{ counts: Record<string, number> }>(
      `select public.sweep_upload_lifecycle(now() + interval '2 days') as counts`,
    ),
  );
  const counts = rows[0]!.counts;
  console.log(dim(`    sweep: ${JSON.stringify(counts)}`));
  await printAudit(draft.entityId);
  const gone = (await dbStatus(draft.entityId)) === undefined;
  const lookup = await backend.getUploadState(draft.entityId).then(
    () => 'still there',
    (e: unknown) => (isUploadLifecycleError(e) ? e.code : String(e)),
  );
  record(
    'sweep',
    'the expired draft is deleted (get_upload_state answers UL003)',
    lookup,
    gone && lookup === 'UL003',
  );
  const completed = await db.query<{ n: number }>(
    `select count(*)::int as n from upload_lifecycle.entities where status = 'completed'`,
  );
  record(
    'sweep',
    'completed entities are untouched',
    `${completed.rows[0]!.n} completed`,
    completed.rows[0]!.n === 3,
  );
}

async function processing() {
  console.log(bold('\n6. processing: a worker checks the stored bytes before the database says completed'));
  // A kind whose files are checked by two required processors: the hash the client declared and
  // the type the bytes really are.
  await withActor(db, { role: 'service_role' }, async (tx) => {
    await tx.query(
      `insert into upload_lifecycle.entity_kinds (kind, bucket_id, max_attempts) values ('contract', 'contracts', 2)`,
    );
    await tx.query(`insert into upload_lifecycle.file_requirements (kind, slot, min_count, max_count, max_bytes, allowed_mime_types) values
      ('contract', 'signed', 1, 1, 16 * 1024 * 1024, array['application/pdf'])`);
    await tx.query(`insert into upload_lifecycle.kind_processors (kind, processor, slot, required, max_attempts) values
      ('contract', 'sha256', null, true, 3), ('contract', 'type', null, true, 1)`);
  });
  const admin = createClient(local.url, local.serviceKey, {
    auth: { persistSession: false },
    realtime: { transport: NoRealtime as never },
  });
  const machine = createUploadMachine({
    backend: createSupabaseBackend(supabase),
    sha256: true,
    watchIntervalsMs: [50, 100, 200],
  });
  const pdf = new Uint8Array([...new TextEncoder().encode('%PDF-1.7\n'), ...bytes(200 * 1024, 6)]);
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...bytes(100 * 1024, 7)]);
  for (const [name, body, expected] of [
    ['signed.pdf', pdf, 'completed'],
    ['renamed.pdf', png, 'failed'],
  ] as const) {
    console.log(dim(`    ${name}: ${body === pdf ? 'a real PDF' : 'PNG bytes declared as application/pdf'}`));
    const actor = createActor(machine, { input: { kind: 'contract' } }).start();
    const sub = watch(actor);
    actor.send({ type: 'ADD_FILES', files: [{ slot: 'signed', body, name, type: 'application/pdf' }] });
    actor.send({ type: 'START' });
    await waitFor(actor, (s) => selectPhase(s) === 'processing', { timeout: 60_000 });
    const report = await runWorker({
      supabase: admin,
      processors: [sha256Processor, typeProcessor],
      untilIdle: true,
      pollIntervalMs: 20,
    }).done;
    console.log(
      dim(
        `    worker: ${report.claimed} claimed, ${report.completed} completed, ${report.failed} failed` +
          (report.lost ? `, ${report.lost} closed by the database first (its entity had failed)` : ''),
      ),
    );
    const done = await settle(actor);
    sub.unsubscribe();
    actor.stop();
    const id = done.context.entityId!;
    await printAudit(id);
    const status = await dbStatus(id);
    const error = done.context.error;
    record(
      'processing',
      expected === 'completed'
        ? 'a real PDF: processing → completed once both checks passed'
        : 'PNG bytes declared as a PDF: the type check fails the upload, typed',
      `status ${status}${error ? `, ${error.name}: ${error.message}` : ''}`,
      status === expected &&
        selectPhase(done) === expected &&
        (expected === 'completed' ? error === null : error?.name === 'ProcessingFailedError'),
    );
  }
}

let exitCode = 0;
try {
  console.log(bold('upload-lifecycle demo') + dim(` — PGlite + local Supabase on ${local.url}`));
  const completedId = await happyPath();
  await droppedConnection();
  await failureAndRetry();
  await forbiddenTransition(completedId);
  await sweepAbandonedDraft();
  await processing();
} catch (error) {
  console.error(red(`\nthe demo stopped: ${error instanceof Error ? error.stack : String(error)}`));
  outcomes.push({ scenario: 'run', expected: 'no unexpected error', observed: String(error), ok: false });
} finally {
  await local.close();
  await pglite.close();
  await rm(directory, { recursive: true, force: true });
}

console.log(bold('\nsummary'));
const width = Math.max(...outcomes.map((o) => o.scenario.length));
for (const o of outcomes) {
  console.log(`  ${o.ok ? green('ok  ') : red('FAIL')}  ${o.scenario.padEnd(width)}  ${o.expected}`);
}
const failed = outcomes.filter((o) => !o.ok).length;
console.log(`\n${outcomes.length - failed} passed, ${failed} failed`);
exitCode = failed === 0 && outcomes.length > 0 ? 0 : 1;
process.exit(exitCode);

/**
 * The machine's `sha256` option (issue 15): each file's SHA-256 is computed from its bytes by the
 * backend (streamed) and declared at registration, so the `sha256` processor checks the stored
 * bytes against what the client read — on PGlite with the real migrations and the real worker.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { createPgliteBackend } from '../../src/adapters/pglite.js';
import { createUploadMachine } from '../../src/machines/upload.js';
import { selectPhase } from '../../src/machines/upload-selectors.js';
import { runWorker, sha256Processor, sqlProcessingPort } from '../../src/workers/index.js';
import { as, createPgliteDb, createUser, resetDb, service, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';

let db: TestDb;
let userId: string;
beforeAll(async () => {
  db = await createPgliteDb();
});
afterAll(() => db.close());
beforeEach(async () => {
  await resetDb(db);
  userId = await createUser(db);
  await defineKind(db, {
    requirements: [
      { slot: 'document', minCount: 1, maxCount: 2, maxBytes: 10_000, allowedMimeTypes: ['application/pdf'] },
    ],
    processors: [{ processor: 'sha256' }],
  });
});

const pdf = (fill: number) =>
  new Uint8Array([...new TextEncoder().encode('%PDF-1.4\n'), ...new Uint8Array(300).fill(fill)]);
const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function upload(sha256: boolean, bodies: Uint8Array[], corrupt = false) {
  const backend = createPgliteBackend(db, { userId });
  const machine = createUploadMachine({ backend, sha256, watchIntervalsMs: [5, 10, 20] });
  const actor = createActor(machine, { input: { kind: 'report' } }).start();
  actor.send({
    type: 'ADD_FILES',
    files: bodies.map((body, i) => ({
      slot: 'document',
      body,
      name: `d${i}.pdf`,
      type: 'application/pdf',
      key: `d${i}`,
    })),
  });
  actor.send({ type: 'START' });
  const processing = await waitFor(actor, (s) => selectPhase(s) === 'processing', { timeout: 10_000 });
  const entityId = processing.context.entityId!;
  const declared = await as(db, service, (tx) =>
    tx.query<{ file_key: string; sha256: string | null }>(
      `select file_key, sha256 from upload_lifecycle.entity_files where entity_id = $1 order by file_key`,
      [entityId],
    ),
  );
  if (corrupt) {
    // The bytes that reached Storage are not the bytes the client read (a proxy, a bad disk):
    // same size, one byte flipped.
    for (const [key, bytes] of backend.objects as Map<string, Uint8Array>) {
      const altered = bytes.slice();
      altered[altered.length - 1] = altered[altered.length - 1]! ^ 0xff;
      backend.objects.set(key, altered);
    }
  }
  await runWorker({
    port: sqlProcessingPort(db, backend.objects),
    processors: [sha256Processor],
    untilIdle: true,
  }).done;
  const settled = await waitFor(actor, (s) => ['completed', 'failed'].includes(selectPhase(s)), {
    timeout: 10_000,
  });
  const results = await as(db, service, (tx) =>
    tx.query<{ result: { declared: boolean; sha256: string } }>(
      `select result from upload_lifecycle.jobs where entity_id = $1 order by created_at`,
      [entityId],
    ),
  );
  actor.stop();
  return {
    declared: declared.rows,
    phase: selectPhase(settled),
    reason: settled.context.failureReason,
    results: results.rows.map((r) => r.result),
  };
}

describe('the machine’s sha256 option', { timeout: 30_000 }, () => {
  it('declares each file’s hash at registration; the worker checks the stored bytes against it and the upload completes', async () => {
    const bodies = [pdf(1), pdf(2)];
    const { declared, phase, results } = await upload(true, bodies);
    expect(declared).toEqual([
      { file_key: 'd0', sha256: hex(bodies[0]!) },
      { file_key: 'd1', sha256: hex(bodies[1]!) },
    ]);
    expect(phase).toBe('completed');
    expect(results).toHaveLength(2);
    expect(results.every((r) => r.declared === true)).toBe(true);
  });

  it('bytes changed on their way to Storage: the declared hash catches it, and the upload fails naming the file', async () => {
    const { phase, reason } = await upload(true, [pdf(4)], true);
    expect(phase).toBe('failed');
    expect(reason).toMatch(/sha256/);
    expect(reason).toMatch(/declared [0-9a-f]{64}/);
  });

  it('off (the default): nothing is declared, and the worker only records the hash it computed', async () => {
    const body = pdf(3);
    const { declared, phase, results } = await upload(false, [body]);
    expect(declared).toEqual([{ file_key: 'd0', sha256: null }]);
    expect(phase).toBe('completed');
    expect(results).toEqual([expect.objectContaining({ declared: false, sha256: hex(body) })]);
  });
});

/**
 * The deletion drain where Supabase users run it: the Edge Function of
 * supabase/functions/upload-lifecycle-drain, unchanged, under real Deno 2 (the pinned `deno` npm
 * package) against the local stack; the same handler in Node; and a database refusal inside
 * Storage reaching the drain's report as its typed error.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createDrainHandler,
  createSupabaseBackend,
  drainStorageDeletions,
} from '../../src/adapters/supabase.js';
import { NotAcceptingError } from '../../src/errors.js';
import { type LocalSupabase } from '../../src/server/local-supabase.js';
import { createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { objectExists, queuedDeletions } from '../support/sweep.js';
import { startEdgeFunction as startFunction } from './edge-function.js';
import { localClient } from '../support/local-client.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

const root = resolve(import.meta.dirname, '../..');
const FUNCTION = join(root, 'supabase/functions/upload-lifecycle-drain/index.ts');
let db: TestDb;
let local: LocalSupabase;
let userId: string;
let bucketId: string;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack('drain-');
  ({ db, local } = stack);
});
afterAll(() => stack.close());
beforeEach(async () => {
  await resetDb(db);
  userId = await createUser(db);
  ({ bucketId } = await defineKind(db));
});

const clientFor = (key: string, token?: string) => localClient(local.url, key, token);

/**
 * Two photos uploaded through the local Storage, then their entity deleted by its owner: both
 * objects are queued in the outbox, bytes and rows still in place.
 */
async function deletedEntityObjects(): Promise<string[]> {
  const user = clientFor(local.anonKey, local.tokenFor(userId));
  const backend = createSupabaseBackend(user, { resumableThreshold: Infinity });
  const draft = await backend.createDraft({ kind: 'report' });
  await backend.beginUpload(draft.entityId);
  const paths: string[] = [];
  for (const name of ['a.png', 'b.png']) {
    const file = await backend.registerFile(draft.entityId, {
      slot: 'photos',
      filename: name,
      size: 10,
      mime: 'image/png',
    });
    await backend.uploadObject({
      bucketId: file.bucketId,
      objectPath: file.objectPath,
      body: new Uint8Array(10),
      contentType: 'image/png',
      size: 10,
      signal: new AbortController().signal,
    });
    paths.push(file.objectPath);
  }
  const { error } = await user.rpc('delete_upload', { entity_id: draft.entityId });
  expect(error).toBeNull();
  expect((await queuedDeletions(db, { pendingOnly: true })).map((d) => d.object_path).sort()).toEqual(
    paths.sort(),
  );
  for (const path of paths) expect(await local.readObject(bucketId, path)).toBeDefined();
  return paths;
}

async function expectDrained(paths: string[]) {
  for (const path of paths) {
    expect(await objectExists(db, bucketId, path)).toBe(false);
    expect(await local.readObject(bucketId, path)).toBeUndefined();
  }
  expect(await queuedDeletions(db, { pendingOnly: true })).toEqual([]);
}

const startEdgeFunction = (env: Record<string, string>) => startFunction(FUNCTION, env);

describe('the deletion drain as a Supabase Edge Function', { timeout: 120_000 }, () => {
  it('runs unchanged under Deno 2 (npm: specifiers, Deno.serve, service key from the environment) and drains the outbox', async () => {
    const paths = await deletedEntityObjects();
    const edge = await startEdgeFunction({
      SUPABASE_URL: local.url,
      SUPABASE_SERVICE_ROLE_KEY: local.serviceKey,
    });
    try {
      const refused = await fetch(edge.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${local.anonKey}` },
      });
      expect(refused.status).toBe(401);
      expect(await queuedDeletions(db, { pendingOnly: true })).toHaveLength(2);

      const answer = await fetch(edge.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${local.serviceKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ batchSize: 1 }),
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({
        claimed: 2,
        removed: 2,
        postponed: 0,
        batches: 3,
        errors: [],
        failures: [],
      });
      await expectDrained(paths);
      // The removals went through the Storage API with the service key, as the function was told.
      const removals = local.log.filter(
        (r) => r.method === 'DELETE' && r.path === `/storage/v1/object/${bucketId}`,
      );
      expect(removals.map((r) => [r.status, r.headers.apikey])).toEqual([
        [200, local.serviceKey],
        [200, local.serviceKey],
      ]);
    } finally {
      await edge.stop();
    }
  });

  it('the same handler runs in Node (a plain process, a cron job): one POST, one drain', async () => {
    const paths = await deletedEntityObjects();
    const handler = createDrainHandler(clientFor(local.serviceKey), { token: local.serviceKey });
    const answer = await handler(
      new Request('http://drain.local/', {
        method: 'POST',
        headers: { authorization: `Bearer ${local.serviceKey}` },
      }),
    );
    expect([answer.status, await answer.json()]).toEqual([
      200,
      { claimed: 2, removed: 2, postponed: 0, batches: 1, errors: [], failures: [] },
    ]);
    await expectDrained(paths);
  });
});

describe('a database refusal inside Storage reaches the drain as its typed error', () => {
  it('HTTP 500 DatabaseError with code UL005 is a NotAcceptingError in report.failures; the row is postponed, not lost', async () => {
    // A trigger of the project refusing the removal with this package's SQLSTATE (as the guard on
    // completed entities' objects does): Storage answers 500 `database error, code: UL005`.
    await db.exec(`
      create or replace function public.test_refuse_removal() returns trigger language plpgsql as $$
      begin raise exception using errcode = 'UL005', message = 'this object is final'; end $$;
      create trigger test_refuse_removal before delete on storage.objects
        for each row when (old.name like 'locked/%') execute function public.test_refuse_removal();`);
    try {
      await db.query(
        `with o as (insert into storage.objects (bucket_id, name, metadata) values ($1, 'locked/1', '{"size": 1}') returning name)
         insert into upload_lifecycle.storage_deletions (bucket_id, object_path, reason) select $1, name, 'orphan' from o`,
        [bucketId],
      );
      const report = await drainStorageDeletions(clientFor(local.serviceKey));
      expect(local.log.at(-2)).toMatchObject({ method: 'DELETE', status: 500 });
      expect(report).toMatchObject({ claimed: 1, removed: 0, postponed: 1 });
      expect(report.failures).toHaveLength(1);
      expect(report.failures[0]).toBeInstanceOf(NotAcceptingError);
      expect(report.errors[0]).toMatch(/UL005/);
      const [row] = await queuedDeletions(db, { pendingOnly: true });
      expect(row).toMatchObject({ object_path: 'locked/1', attempts: 1, done: false });
      expect(row!.last_error).toMatch(/^UL005: /);
      expect(await objectExists(db, bucketId, 'locked/1')).toBe(true);
    } finally {
      await db.exec(
        `drop trigger test_refuse_removal on storage.objects; drop function public.test_refuse_removal();`,
      );
    }
  });
});

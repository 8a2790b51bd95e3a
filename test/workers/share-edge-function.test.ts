/**
 * Share links where Supabase users host them: the Edge Function of
 * supabase/functions/upload-lifecycle-share, unchanged, under real Deno 2 against the local stack.
 * Someone without an account opens the link and gets the upload and working download URLs.
 */
import { resolve } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSupabaseBackend } from '../../src/adapters/supabase.js';
import { type LocalSupabase } from '../../src/server/local-supabase.js';
import { createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { startEdgeFunction } from './edge-function.js';
import { noRealtime } from '../support/local-client.js';
import { startLocalStack, type LocalStack } from '../support/local-stack.js';

const FUNCTION = resolve(import.meta.dirname, '../../supabase/functions/upload-lifecycle-share/index.ts');
let db: TestDb;
let local: LocalSupabase;
let userId: string;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack('share-');
  ({ db, local } = stack);
});
afterAll(() => stack.close());
beforeEach(async () => {
  await resetDb(db);
  userId = await createUser(db);
  await defineKind(db);
});

describe('share links as a Supabase Edge Function', { timeout: 120_000 }, () => {
  it('runs unchanged under Deno 2 and answers a link’s upload with signed URLs that serve its bytes, until revoked', async () => {
    const user = createClient(local.url, local.anonKey, {
      accessToken: async () => local.tokenFor(userId),
      ...noRealtime,
    });
    const backend = createSupabaseBackend(user, { resumableThreshold: Infinity });
    const pdf = new Uint8Array(800).fill(9);
    const state = await backend.createDraft({
      kind: 'report',
      metadata: { title: 'shared' },
      startUpload: true,
      files: [{ key: 'doc', slot: 'document', filename: 'r.pdf', size: pdf.length, mime: 'application/pdf' }],
    });
    const file = state.files[0]!;
    await backend.uploadObject({
      bucketId: file.bucketId,
      objectPath: file.objectPath,
      body: pdf,
      contentType: 'application/pdf',
      size: pdf.length,
      signal: new AbortController().signal,
    });
    await backend.finalizeUpload(state.entityId);
    const share = await backend.createShare(state.entityId);

    const edge = await startEdgeFunction(FUNCTION, {
      SUPABASE_URL: local.url,
      SUPABASE_SERVICE_ROLE_KEY: local.serviceKey,
    });
    try {
      // No apikey, no session: what a browser opening the link sends.
      const answer = await fetch(`${edge.url}/?token=${share.token}`);
      expect(answer.status, edge.output()).toBe(200);
      const body = (await answer.json()) as {
        upload: { entityId: string; metadata: unknown };
        files: { url: string; originalName: string }[];
      };
      expect(body.upload).toMatchObject({ entityId: state.entityId, metadata: { title: 'shared' } });
      expect(body.files.map((f) => f.originalName)).toEqual(['r.pdf']);
      expect(new Uint8Array(await (await fetch(body.files[0]!.url)).arrayBuffer())).toEqual(pdf);

      await backend.revokeShare(share.shareId);
      expect((await fetch(`${edge.url}/?token=${share.token}`)).status).toBe(404);
    } finally {
      await edge.stop();
    }
  });
});

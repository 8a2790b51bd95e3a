/**
 * The user journey beyond uploading, through the embedded backend over the real migrations:
 * discard a draft or a failed upload, list one's uploads page by page, download a completed
 * upload, share it and revoke the share. Defined once, run on PGlite (journey.test.ts) and on
 * PostgreSQL 15 (journey.pg.test.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgliteBackend, type PgliteBackend } from '../../src/adapters/pglite.js';
import { isStorageTransferError, type UploadState } from '../../src/adapters/backend.js';
import { EntityNotFoundError, InvalidFileError, NotAcceptingError } from '../../src/errors.js';
import { createUser, resetDb, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';

/** Registers the journey's tests on the database `createDb` opens (migrated, with the Supabase shim). */
export function defineJourneyTests(createDb: () => Promise<TestDb>): void {
  let db: TestDb;
  let userId: string;
  let otherId: string;
  let backend: PgliteBackend;
  let other: PgliteBackend;
  beforeAll(async () => {
    db = await createDb();
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await resetDb(db);
    userId = await createUser(db);
    otherId = await createUser(db);
    await defineKind(db);
    await defineKind(db, { kind: 'song' });
    backend = createPgliteBackend(db, { userId });
    other = createPgliteBackend(db, { userId: otherId });
  });

  const pdf = new Uint8Array(1000).fill(7);

  /** An uploading entity with its document stored (not finalized). */
  async function uploaded(b: PgliteBackend = backend, kind = 'report'): Promise<UploadState> {
    const state = await b.createDraft({
      kind,
      metadata: { title: 'Q3' },
      startUpload: true,
      files: [
        { key: 'doc', slot: 'document', filename: 'report.pdf', size: pdf.length, mime: 'application/pdf' },
      ],
    });
    const file = state.files[0]!;
    await b.uploadObject({
      bucketId: file.bucketId,
      objectPath: file.objectPath,
      body: pdf,
      contentType: 'application/pdf',
      size: pdf.length,
      signal: new AbortController().signal,
    });
    return state;
  }

  async function completed(b: PgliteBackend = backend): Promise<UploadState> {
    return b.finalizeUpload((await uploaded(b)).entityId);
  }

  async function outbox(entityId: string) {
    const { rows } = await db.query<{ object_path: string; reason: string }>(
      'select object_path, reason from upload_lifecycle.storage_deletions where entity_id = $1 order by id',
      [entityId],
    );
    return rows;
  }

  describe('discard (deleteUpload)', { timeout: 30_000 }, () => {
    it('a discarded draft is gone: its state is not found afterwards', async () => {
      const draft = await backend.createDraft({ kind: 'report', metadata: {} });
      await backend.deleteUpload(draft.entityId);
      await expect(backend.getUploadState(draft.entityId)).rejects.toBeInstanceOf(EntityNotFoundError);
    });

    it('a discarded failed upload is gone and its stored objects are queued for deletion', async () => {
      const state = await uploaded();
      await backend.failUpload(state.entityId, 'client_error');
      await backend.deleteUpload(state.entityId);
      await expect(backend.getUploadState(state.entityId)).rejects.toBeInstanceOf(EntityNotFoundError);
      expect(await outbox(state.entityId)).toEqual([
        { object_path: state.files[0]!.objectPath, reason: 'entity_deleted' },
      ]);
    });

    it('a completed upload is refused (UL005) and stays, with nothing queued', async () => {
      const done = await completed();
      const error = await backend.deleteUpload(done.entityId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotAcceptingError);
      expect((error as NotAcceptingError).code).toBe('UL005');
      expect((await backend.getUploadState(done.entityId)).status).toBe('completed');
      expect(await outbox(done.entityId)).toEqual([]);
    });

    it('another user’s upload is not found (UL003) and stays', async () => {
      const draft = await backend.createDraft({ kind: 'report', metadata: {} });
      await expect(other.deleteUpload(draft.entityId)).rejects.toBeInstanceOf(EntityNotFoundError);
      expect((await backend.getUploadState(draft.entityId)).status).toBe('draft');
    });
  });

  describe('listUploads', { timeout: 30_000 }, () => {
    const newestFirst = (a: UploadState, b: UploadState) =>
      b.createdAt.localeCompare(a.createdAt) || b.entityId.localeCompare(a.entityId);

    it('answers only the caller’s uploads, newest first, in keyset pages that cover each once', async () => {
      const mine: UploadState[] = [];
      for (let i = 0; i < 5; i++) mine.push(await backend.createDraft({ kind: 'report', metadata: { i } }));
      await other.createDraft({ kind: 'report', metadata: {} });

      const seen: UploadState[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page = await backend.listUploads({ limit: 2, after });
        seen.push(...page.uploads);
        after = page.next;
        pages++;
      } while (after !== null);

      expect(pages).toBe(3);
      expect(seen.map((s) => s.entityId)).toEqual([...mine].sort(newestFirst).map((s) => s.entityId));
      expect(seen[0]).toEqual(await backend.getUploadState(seen[0]!.entityId));
    });

    it('a page after the cursor does not shift when a newer upload appears (keyset, not offset)', async () => {
      for (let i = 0; i < 4; i++) await backend.createDraft({ kind: 'report', metadata: { i } });
      const all = (await backend.listUploads({ limit: 10 })).uploads.map((s) => s.entityId);
      const first = await backend.listUploads({ limit: 2 });
      await backend.createDraft({ kind: 'report', metadata: { late: true } });
      const second = await backend.listUploads({ limit: 2, after: first.next });
      expect(second.uploads.map((s) => s.entityId)).toEqual(all.slice(2, 4));
    });

    it('filters by kind and by status', async () => {
      const draft = await backend.createDraft({ kind: 'report', metadata: {} });
      const failed = await uploaded();
      await backend.failUpload(failed.entityId, 'client_error');
      const song = await backend.createDraft({ kind: 'song', metadata: {} });

      const ids = async (query: Parameters<PgliteBackend['listUploads']>[0]) =>
        (await backend.listUploads(query)).uploads.map((s) => s.entityId).sort();
      expect(await ids({ status: 'failed' })).toEqual([failed.entityId]);
      expect(await ids({ kind: 'song' })).toEqual([song.entityId]);
      expect(await ids({ kind: 'report', status: 'draft' })).toEqual([draft.entityId]);
      expect((await backend.listUploads({ status: 'failed' })).uploads[0]!.status).toBe('failed');
    });

    it('refuses a forged cursor and an out-of-range page size with UL004', async () => {
      await expect(backend.listUploads({ after: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidFileError);
      await expect(backend.listUploads({ limit: 0 })).rejects.toBeInstanceOf(InvalidFileError);
      await expect(backend.listUploads({ limit: 101 })).rejects.toBeInstanceOf(InvalidFileError);
    });
  });

  describe('getDownloadUrls (embedded)', { timeout: 30_000 }, () => {
    it('answers the bytes and an object URL of each file of an own completed upload', async () => {
      const done = await completed();
      const [file, ...rest] = await backend.getDownloadUrls(done.entityId);
      expect(rest).toEqual([]);
      expect(file).toMatchObject({
        slot: 'document',
        originalName: 'report.pdf',
        size: 1000,
        mime: 'application/pdf',
      });
      expect(file!.bytes).toEqual(pdf);
      expect(file!.url).toMatch(/^blob:/);
      const fetched = new Uint8Array(await (await fetch(file!.url)).arrayBuffer());
      expect(fetched).toEqual(pdf);
      URL.revokeObjectURL(file!.url);
    });

    it('refuses an upload that is not completed (UL005) and another user’s (UL003)', async () => {
      const state = await uploaded();
      await expect(backend.getDownloadUrls(state.entityId)).rejects.toBeInstanceOf(NotAcceptingError);
      const done = await backend.finalizeUpload(state.entityId);
      await expect(other.getDownloadUrls(done.entityId)).rejects.toBeInstanceOf(EntityNotFoundError);
    });

    it('says so, typed, when the bytes are not in this backend’s store', async () => {
      const done = await completed();
      const elsewhere = createPgliteBackend(db, { userId });
      const error = await elsewhere.getDownloadUrls(done.entityId).catch((e: unknown) => e);
      expect(isStorageTransferError(error)).toBe(true);
    });
  });

  describe('share links', { timeout: 30_000 }, () => {
    it('a share token reads the completed upload for another user, until it is revoked', async () => {
      const done = await completed();
      const share = await backend.createShare(done.entityId);
      expect(share).toMatchObject({ entityId: done.entityId, expiresAt: null });
      expect(share.token).toMatch(/^[0-9a-f]{64}$/);

      const shared = await other.getSharedUpload(share.token);
      expect(shared).toMatchObject({ entityId: done.entityId, kind: 'report', metadata: { title: 'Q3' } });
      expect(shared.files.map((f) => f.originalName)).toEqual(['report.pdf']);
      const [download] = await backend.getSharedDownloads(share.token);
      expect(download!.bytes).toEqual(pdf);

      await backend.revokeShare(share.shareId);
      await expect(other.getSharedUpload(share.token)).rejects.toBeInstanceOf(EntityNotFoundError);
    });

    it('only the owner shares (UL003 for others), only a completed upload (UL005), only into the future (UL004)', async () => {
      const state = await uploaded();
      await expect(backend.createShare(state.entityId)).rejects.toBeInstanceOf(NotAcceptingError);
      await backend.finalizeUpload(state.entityId);
      await expect(other.createShare(state.entityId)).rejects.toBeInstanceOf(EntityNotFoundError);
      await expect(backend.createShare(state.entityId, { expiresAt: new Date(0) })).rejects.toBeInstanceOf(
        InvalidFileError,
      );
      const share = await backend.createShare(state.entityId, {
        expiresAt: new Date(Date.now() + 3_600_000),
      });
      await expect(other.revokeShare(share.shareId)).rejects.toBeInstanceOf(EntityNotFoundError);
      expect((await other.getSharedUpload(share.token)).entityId).toBe(state.entityId);
    });
  });
}

// @vitest-environment jsdom
/**
 * The React side of the journey: query keys and fetchers for React Query users (no cache of our
 * own) and useUploadShare — against the fake backend and a stub, in jsdom.
 */
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { JourneyBackend, UploadPage, UploadShare } from '../../src/adapters/backend.js';
import { NotAcceptingError } from '../../src/errors.js';
import {
  downloadUrlsQuery,
  uploadKeys,
  uploadListQuery,
  uploadStateQuery,
  useUploadShare,
} from '../../src/react/index.js';
import { createFakeBackend } from '../upload/fake-backend.js';

afterEach(cleanup);

/** What useInfiniteQuery does with the options: first page, then `getNextPageParam` until null. */
async function allPages(options: ReturnType<typeof uploadListQuery>): Promise<UploadPage[]> {
  const pages = [await options.queryFn({ pageParam: options.initialPageParam })];
  for (
    let next = options.getNextPageParam(pages[0]!);
    next !== null;
    next = options.getNextPageParam(pages.at(-1)!)
  ) {
    pages.push(await options.queryFn({ pageParam: next }));
  }
  return pages;
}

describe('query keys and fetchers', () => {
  it('every key lives under uploadKeys.all, lists under uploadKeys.lists(); the cursor is never part of a key', () => {
    const drafts = uploadKeys.list({ kind: 'report', status: 'draft' });
    expect(drafts.slice(0, 2)).toEqual(uploadKeys.lists());
    expect(uploadKeys.state('e1').slice(0, 1)).toEqual(uploadKeys.all);
    expect(drafts).toEqual(uploadKeys.list({ status: 'draft', kind: 'report' }));
    expect(drafts).not.toEqual(uploadKeys.list({ kind: 'report', status: 'failed' }));
    expect(
      uploadListQuery(createFakeBackend().backend, { kind: 'report', status: 'draft' }).queryKey,
    ).toEqual(drafts);
  });

  it('uploadListQuery pages through the backend by its cursor, newest first, each upload once', async () => {
    const fake = createFakeBackend();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await fake.backend.createDraft({ kind: 'report', metadata: { i } })).entityId);
    const pages = await allPages(uploadListQuery(fake.backend, { limit: 2 }));
    expect(pages.map((p) => p.uploads.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.uploads.map((u) => u.entityId))).toEqual([...ids].reverse());
    expect(
      fake.calls
        .filter((c) => c.method === 'listUploads')
        .map((c) => (c.args[0] as { after: unknown }).after),
    ).toEqual([null, ids[3], ids[1]]);
  });

  it('uploadStateQuery and downloadUrlsQuery call the backend for their entity; URLs go stale a minute before they expire', async () => {
    const fake = createFakeBackend();
    const draft = await fake.backend.createDraft({ kind: 'report', metadata: {} });
    const state = uploadStateQuery(fake.backend, draft.entityId);
    expect(state.queryKey).toEqual(uploadKeys.state(draft.entityId));
    expect((await state.queryFn()).entityId).toBe(draft.entityId);

    const asked: unknown[] = [];
    const downloads = downloadUrlsQuery(
      { getDownloadUrls: async (id, options) => (asked.push([id, options]), []) },
      draft.entityId,
      { expiresIn: 600 },
    );
    await downloads.queryFn();
    expect(asked).toEqual([[draft.entityId, { expiresIn: 600 }]]);
    expect(downloads.staleTime).toBe(540_000);
    expect(downloads.queryKey.slice(0, 3)).toEqual(uploadKeys.downloads(draft.entityId));
  });
});

function ShareButton({ backend }: { backend: Pick<JourneyBackend, 'createShare' | 'revokeShare'> }) {
  const share = useUploadShare(backend, 'entity-1');
  return (
    <>
      <button onClick={() => void share.create()}>share</button>
      <button onClick={() => void share.revoke()}>revoke</button>
      <output data-testid="token">{share.share?.token ?? 'none'}</output>
      <output data-testid="error">{share.error?.code ?? 'none'}</output>
      <output data-testid="pending">{String(share.pending)}</output>
    </>
  );
}

describe('useUploadShare', () => {
  it('creates a share (keeping its one-time token) and revokes that very share', async () => {
    const revoked: string[] = [];
    const backend = {
      createShare: async (entityId: string): Promise<UploadShare> => ({
        shareId: 'share-1',
        entityId,
        token: 'secret-token',
        expiresAt: null,
      }),
      revokeShare: async (shareId: string) => void revoked.push(shareId),
    };
    render(<ShareButton backend={backend} />);
    await act(async () => fireEvent.click(screen.getByText('share')));
    expect(screen.getByTestId('token').textContent).toBe('secret-token');
    expect(screen.getByTestId('pending').textContent).toBe('false');
    await act(async () => fireEvent.click(screen.getByText('revoke')));
    expect(revoked).toEqual(['share-1']);
    expect(screen.getByTestId('token').textContent).toBe('none');
  });

  it('a refusal is the typed error of the backend (UL005 for an upload not completed)', async () => {
    const backend = {
      createShare: () => Promise.reject(new NotAcceptingError({ message: 'upload is draft' })),
      revokeShare: async () => undefined,
    };
    render(<ShareButton backend={backend} />);
    await act(async () => fireEvent.click(screen.getByText('share')));
    expect(screen.getByTestId('error').textContent).toBe('UL005');
    expect(screen.getByTestId('token').textContent).toBe('none');
  });
});

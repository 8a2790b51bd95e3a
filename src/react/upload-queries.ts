/**
 * React Query without a cache of our own: query keys and fetchers for the reads of the journey —
 * "my uploads" lists, one upload's state, download URLs — as plain option objects for
 * `useQuery` / `useInfiniteQuery` (TanStack Query v5 shapes; nothing here imports it). The
 * backend is the cache's source of truth only through these functions, so invalidating
 * `uploadKeys.all` after a discard, a completed upload or a sign-out refetches everything.
 *
 * @example
 * ```tsx
 * const drafts = useInfiniteQuery(uploadListQuery(backend, { kind: 'report', status: 'draft' }));
 * const discard = useMutation({
 *   mutationFn: (id: string) => backend.deleteUpload(id),
 *   onSuccess: () => queryClient.invalidateQueries({ queryKey: uploadKeys.lists() }),
 * });
 * ```
 */
import type { Backend, DownloadOptions, JourneyBackend, ListUploadsQuery, UploadPage } from '../core/port.js';

/** The filters of a list, without its cursor (pages of one list share one key). */
export type UploadListFilters = Omit<ListUploadsQuery, 'after'>;

/** Hierarchical query keys: invalidate a prefix (`uploadKeys.lists()`) to refetch everything under it. */
export const uploadKeys = {
  all: ['upload-lifecycle'] as const,
  lists: () => [...uploadKeys.all, 'list'] as const,
  list: (filters: UploadListFilters = {}) =>
    [
      ...uploadKeys.lists(),
      { kind: filters.kind ?? null, status: filters.status ?? null, limit: filters.limit ?? 20 },
    ] as const,
  state: (entityId: string) => [...uploadKeys.all, 'state', entityId] as const,
  downloads: (entityId: string) => [...uploadKeys.all, 'downloads', entityId] as const,
};

/** Options for `useInfiniteQuery`: one keyset page per `pageParam`, `next` as the following one. */
export function uploadListQuery(backend: Pick<Backend, 'listUploads'>, filters: UploadListFilters = {}) {
  return {
    queryKey: uploadKeys.list(filters),
    queryFn: ({ pageParam }: { pageParam: string | null }) =>
      backend.listUploads({ ...filters, after: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (page: UploadPage) => page.next,
  };
}

/** Options for `useQuery`: one upload's state (`get_upload_state`). */
export function uploadStateQuery(backend: Pick<Backend, 'getUploadState'>, entityId: string) {
  return { queryKey: uploadKeys.state(entityId), queryFn: () => backend.getUploadState(entityId) };
}

/**
 * Options for `useQuery`: download URLs of a completed upload, considered fresh for all but the
 * last minute of their validity so a rendered link is never already expired.
 */
export function downloadUrlsQuery(
  backend: Pick<JourneyBackend, 'getDownloadUrls'>,
  entityId: string,
  options: DownloadOptions = {},
) {
  const expiresIn = options.expiresIn ?? 3600;
  return {
    queryKey: [...uploadKeys.downloads(entityId), expiresIn] as const,
    queryFn: () => backend.getDownloadUrls(entityId, { expiresIn }),
    staleTime: Math.max(0, expiresIn - 60) * 1000,
  };
}

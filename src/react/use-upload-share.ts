/**
 * Share links of one completed upload: create one (the token is shown once, so the hook keeps it
 * for the session) and revoke it. Errors are the backend's typed errors (UL005 for an upload that
 * is not completed, UL003 for one that is not the caller's).
 *
 * @example
 * ```tsx
 * const share = useUploadShare(backend, entityId);
 * <button onClick={() => share.create({ expiresAt: inOneWeek })}>Share</button>
 * {share.share && <a href={`${SHARE_URL}?token=${share.share.token}`}>link</a>}
 * ```
 */
import { useState } from 'react';
import type { JourneyBackend, UploadShare } from '../core/port.js';
import { toUploadLifecycleError, type UploadLifecycleError } from '../errors.js';

export interface UploadShareState {
  /** The share created in this session (with its token), or null. */
  share: UploadShare | null;
  pending: boolean;
  error: UploadLifecycleError | null;
  create(options?: { expiresAt?: string | Date | null }): Promise<UploadShare | null>;
  /** Revokes the share created here, or the one whose id is given. */
  revoke(shareId?: string): Promise<void>;
}

export function useUploadShare(
  backend: Pick<JourneyBackend, 'createShare' | 'revokeShare'>,
  entityId: string,
): UploadShareState {
  const [state, setState] = useState<Pick<UploadShareState, 'share' | 'pending' | 'error'>>({
    share: null,
    pending: false,
    error: null,
  });
  const shareId = state.share?.shareId;
  // Both calls go the same way: pending, then the share they leave behind or the typed error.
  const run = async (call: Promise<UploadShare | null>) => {
    setState((s) => ({ ...s, pending: true, error: null }));
    try {
      const share = await call;
      setState({ share, pending: false, error: null });
      return share;
    } catch (error) {
      setState((s) => ({ ...s, pending: false, error: toUploadLifecycleError(error) }));
      return null;
    }
  };
  return {
    ...state,
    create: (options) => run(backend.createShare(entityId, options)),
    revoke: async (id = shareId) => {
      if (id) await run(backend.revokeShare(id).then(() => null));
    },
  };
}

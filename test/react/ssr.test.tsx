// @vitest-environment node
/**
 * Server rendering: the hook module imports without a DOM, renders the initial state, and starts
 * nothing (no RPC, no timer) on the server.
 */
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { useUploadLifecycle } from '../../src/react/index.js';
import { createFakeBackend } from '../upload/fake-backend.js';

describe('useUploadLifecycle on the server', () => {
  it('renders the initial state without calling the backend', () => {
    const fake = createFakeBackend();
    function Uploader() {
      const upload = useUploadLifecycle({ backend: fake.backend, kind: 'report', persistKey: 'k' });
      return <p>{`${upload.status} ${upload.progress.filesTotal} ${upload.databaseStatus ?? 'none'}`}</p>;
    }

    expect(typeof window).toBe('undefined');
    expect(renderToString(<Uploader />)).toBe('<p>idle 0 none</p>');
    expect(fake.calls).toHaveLength(0);
  });

  it('renders an existing entity as loading without reading it on the server', () => {
    const fake = createFakeBackend();
    function Uploader() {
      return <p>{useUploadLifecycle({ backend: fake.backend, entityId: 'e1' }).status}</p>;
    }

    expect(renderToString(<Uploader />)).toBe('<p>loading</p>');
    expect(fake.calls).toHaveLength(0);
  });
});

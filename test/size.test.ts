/**
 * Size budget (DESIGN.md §5): what an app importing `upload-lifecycle` and `upload-lifecycle/react`
 * ships, bundled and minified with peer dependencies external, gzipped. Deterministic (a build, not
 * a timing), so it is a test; `npm run bench` records the same figures for every entry point.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { gzippedSize } from '../bench/size.js';

const CORE_AND_REACT = 'bench/entries/core-and-react.ts';

describe('bundle size', () => {
  // 12 kB until issue 13: the machine that answers every event in every state, registers in
  // batches and keeps removals across reloads costs ~1.7 kB more (13.0 kB measured). 13.5 kB until
  // issue 18b: DISCARD (two states, deferral, restore), the named error classes and the `inspect`
  // option cost ~0.5 kB more (13.8 kB measured). 14 kB until issue 15: the `processing` state, its
  // default polling watcher and the jobs selector/hook fields cost ~1 kB more (14.9 kB measured).
  // 15 kB until the machine's `sha256` option (issue 15: declare each file's hash at registration,
  // hashed through the backend before the registration calls): ~0.2 kB more (15.1 kB measured).
  it('core + react stay within 15.5 kB gzipped', async () => {
    const bytes = await gzippedSize(CORE_AND_REACT);
    console.log(`core + react: ${bytes} bytes gzipped`);
    expect(bytes).toBeGreaterThan(2_000); // it bundled something
    expect(bytes).toBeLessThanOrEqual(15.5 * 1024);
  });

  it('the core entry bundles no validator: parsing RPC answers lives in the adapters', async () => {
    const result = await build({
      entryPoints: ['src/index.ts'],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'browser',
      external: ['xstate', 'xstate/*'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.startsWith('src/machines/'))).toBe(true);
    expect(inputs.filter((p) => p.includes('node_modules/zod/'))).toEqual([]);
  });
});

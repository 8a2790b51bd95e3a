/**
 * Size: gzipped bytes of each entry point, bundled and minified, peer dependencies external.
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import type { Figure, Section } from './lib.js';

const PEERS = [
  'xstate',
  'xstate/*',
  'react',
  'react-dom',
  'react/*',
  '@xstate/react',
  '@supabase/supabase-js',
  '@electric-sql/pglite',
  '@electric-sql/pglite/*',
];

export const ENTRY_POINTS: Record<string, string> = {
  'upload-lifecycle': 'src/index.ts',
  'upload-lifecycle/react': 'src/react/index.ts',
  'upload-lifecycle/supabase': 'src/adapters/supabase.ts',
  'upload-lifecycle/pglite': 'src/adapters/pglite.ts',
  'upload-lifecycle/sql': 'src/sql.ts',
};

export async function gzippedSize(entry: string): Promise<number> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    external: [...PEERS, 'node:*'],
    logLevel: 'silent',
  });
  return gzipSync(result.outputFiles[0]!.contents, { level: 9 }).length;
}

export const size: Section = async (ctx) => {
  const figures: Figure[] = [];
  const sizes: Record<string, number> = {};
  for (const [name, entry] of Object.entries(ENTRY_POINTS)) {
    if (!existsSync(entry)) {
      ctx.log(`size: ${entry} does not exist yet, skipped`);
      continue;
    }
    sizes[name] = await gzippedSize(entry);
    figures.push({ name: `size ${name} (gzip)`, value: sizes[name], unit: 'bytes' });
  }
  if (sizes['upload-lifecycle'] !== undefined && sizes['upload-lifecycle/react'] !== undefined) {
    // The react entry imports the core; bundled alone it already contains what it uses of it.
    const combined = await gzippedSize('bench/entries/core-and-react.ts').catch(() => undefined);
    if (combined !== undefined) {
      figures.push({
        name: 'size core + react (gzip)',
        value: combined,
        unit: 'bytes',
        target: '≤ 12288',
        met: combined <= 12288,
      });
    }
  }
  return figures;
};

/**
 * Storybook for upload-lifecycle: the machines as diagrams and a live demo that runs the real
 * migrations in PGlite inside the browser. Everything builds offline (no telemetry, no addons
 * fetched at run time).
 */
import type { StorybookConfig } from '@storybook/react-vite';

const config: StorybookConfig = {
  // StrictMode everywhere: the browser tests then prove the hook survives the double mount too.
  framework: { name: '@storybook/react-vite', options: { strictMode: true } },
  stories: ['../stories/**/*.stories.@(ts|tsx)'],
  core: {
    disableTelemetry: true,
    disableWhatsNewNotifications: true,
  },
  typescript: {
    // react-docgen walks every imported module; the stories document behaviour, not props.
    reactDocgen: false,
  },
  async viteFinal(config) {
    const { mergeConfig } = await import('vite');
    return mergeConfig(config, {
      // PGlite loads its .wasm and .data files with `new URL(..., import.meta.url)`; Vite's
      // dependency pre-bundling would rewrite those URLs away (pglite.dev/docs/bundler-support).
      optimizeDeps: { exclude: ['@electric-sql/pglite'] },
      worker: { format: 'es' },
      build: {
        chunkSizeWarningLimit: 8_000,
        rollupOptions: {
          // PGlite's Emscripten glue uses direct eval; known and harmless, not ours to fix.
          onwarn(warning: { code?: string; id?: string; message: string }, warn: (w: unknown) => void) {
            if (warning.code === 'EVAL' && `${warning.id ?? warning.message}`.includes('pglite')) return;
            warn(warning);
          },
        },
      },
    });
  },
};

export default config;

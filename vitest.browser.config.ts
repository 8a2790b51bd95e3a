/**
 * The browser tests: stories driven in Debian's Chromium by playwright-core against a
 * `storybook build` output. Run through scripts/test-browser.sh (installs chromium with apt if
 * missing, builds Storybook, then runs this). Kept out of the default `vitest run`: their files
 * are `*.browser.ts`, which the default config does not include.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});

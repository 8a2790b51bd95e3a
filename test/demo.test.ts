import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run demo', () => {
  it('runs every scenario end to end on the embedded default and exits 0', { timeout: 240_000 }, async () => {
    const { stdout } = await run('npx', ['tsx', 'src/demo/main.ts'], {
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    for (const heading of [
      '1. create → upload three files in parallel → finalize → completed',
      '2. a connection dropped mid-file resumes from the last acknowledged chunk',
      '3. validation refuses bad input before any byte; a failed upload recovers with retry',
      '4. a forbidden transition attempted directly in SQL is refused',
      '5. an abandoned draft is swept once its TTL has passed',
      '6. processing: a worker checks the stored bytes before the database says completed',
    ]) {
      expect(stdout).toContain(heading);
    }
    expect(stdout).toContain('db: uploading → completed (finalize)');
    expect(stdout).toContain('db: processing → completed (processed)');
    expect(stdout).toMatch(/^15 passed, 0 failed$/m);
    // Plain output when not a TTY: no ANSI escapes in CI logs.
    expect(stdout).not.toContain('\x1b[');
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { SUPABASE_SHIM_SQL } from '../src/db/migrate.js';
import { MIGRATIONS } from '../src/generated/sql.js';
import { hasServer, createPgDb } from './support/pg.js';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'bin', 'upload-lifecycle.mjs');

describe('upload-lifecycle migrations --out', () => {
  it('writes every migration in the Supabase CLI naming scheme, in order', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ul-cli-'));
    await run('node', [cli, 'migrations', '--out', out, '--timestamp', '20260101120000']);
    const files = (await readdir(out)).sort();
    expect(files).toHaveLength(MIGRATIONS.length);
    files.forEach((file, i) => {
      expect(file).toMatch(/^\d{14}_upload_lifecycle_\d{4}_[a-z0-9_]+\.sql$/);
      expect(file.endsWith(MIGRATIONS[i]!.name)).toBe(true);
    });
    expect(files[0]!.startsWith('20260101120000_')).toBe(true);
  });

  it('writes exactly the sequence applyMigrations applies (same names, same SQL, same order)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ul-cli-'));
    await run('node', [cli, 'migrations', '--out', out, '--timestamp', '20260101120000']);
    const written = await Promise.all(
      (await readdir(out)).sort().map(async (file) => ({
        name: file.replace(/^\d{14}_upload_lifecycle_/, ''),
        sql: await readFile(join(out, file), 'utf8'),
      })),
    );
    expect(written).toEqual(MIGRATIONS.map(({ name, sql }) => ({ name, sql })));
  });

  it('keeps files that are already there (re-running adds only new migrations)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ul-cli-'));
    await run('node', [cli, 'migrations', '--out', out, '--timestamp', '20260101120000']);
    const { stdout } = await run('node', [cli, 'migrations', '--out', out]);
    expect(stdout).toContain('0 file(s) written');
    expect(await readdir(out)).toHaveLength(MIGRATIONS.length);
  });

  it('--print is the same sequence as one script', async () => {
    const { stdout } = await run('node', [cli, 'migrations', '--print'], { maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toBe(MIGRATIONS.map((m) => `-- ${m.name}\n${m.sql}\n`).join(''));
  });

  it('--print into a reader that stops early (| head) exits 0 without a stack trace', async () => {
    const { stdout: size } = await run('sh', ['-c', `node ${cli} migrations --print | wc -c`]);
    expect(Number(size), 'more than a pipe buffer, so the writer does meet the closed pipe').toBeGreaterThan(
      65536,
    );
    // pipefail: the exit status is the CLI's, not head's.
    const { stdout, stderr } = await run('bash', [
      '-c',
      `set -o pipefail; node ${cli} migrations --print | head -n 1`,
    ]);
    expect(stdout).toBe(`-- ${MIGRATIONS[0]!.name}\n`);
    expect(stderr).toBe('');
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(
      await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8'),
    ) as {
      version: string;
    };
    const { stdout } = await run('node', [cli, '--version']);
    expect(stdout.trim()).toBe(version);
  });

  it('refuses unknown arguments with exit code 2 and usage', async () => {
    const error = await run('node', [cli, 'migrations', '--nope']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
  });

  it.skipIf(!hasServer)('the written files apply to a fresh PostgreSQL with the shim', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ul-cli-'));
    await run('node', [cli, 'migrations', '--out', out, '--timestamp', '20260101120000']);
    const db = await createPgDb();
    try {
      // createPgDb already migrated: drop our schema and re-apply from the written files only.
      await db.exec('drop schema upload_lifecycle cascade');
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(SUPABASE_SHIM_SQL);
        for (const file of (await readdir(out)).sort())
          await client.query(await readFile(join(out, file), 'utf8'));
        const { rows } = await client.query(`select count(*)::int as n from upload_lifecycle.transitions`);
        expect(rows[0].n).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    } finally {
      await db.close();
    }
  });
});

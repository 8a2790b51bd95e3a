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
    expect(await readFile(join(out, files[1]!), 'utf8')).toBe(MIGRATIONS[1]!.sql);
  });

  it('keeps files that are already there (re-running adds only new migrations)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ul-cli-'));
    await run('node', [cli, 'migrations', '--out', out, '--timestamp', '20260101120000']);
    const { stdout } = await run('node', [cli, 'migrations', '--out', out]);
    expect(stdout).toContain('0 file(s) written');
    expect(await readdir(out)).toHaveLength(MIGRATIONS.length);
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

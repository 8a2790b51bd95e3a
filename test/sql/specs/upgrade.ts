/**
 * Acceptance of the migration sequence: a database that applied release 0.1.0 (0001–0033 as they
 * shipped, test/fixtures/release-0.1.0.json) and is then upgraded — by `applyMigrations`, which
 * re-runs the whole sequence, or by the files `npx upload-lifecycle migrations --out` adds to a
 * Supabase project, applied the way `supabase db push` applies new versions — has exactly the
 * catalog of a fresh install. Run by upgrade.test.ts (PGlite) and upgrade.pg.test.ts (PostgreSQL).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, applyMigrations } from '../../../src/db/migrate.js';
import { catalogSnapshot } from '../../support/catalog.js';
import type { TestDb } from '../../support/db.js';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', '..', '..', 'bin', 'upload-lifecycle.mjs');
const released: readonly { name: string; sql: string }[] = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'release-0.1.0.json'), 'utf8'),
).migrations;

/** The migrations table of a Supabase project: a version is applied once, in file name order. */
async function pushNewFiles(db: TestDb, dir: string, applied: Set<string>): Promise<string[]> {
  const pushed: string[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const version = file.slice(0, 14);
    if (applied.has(version)) continue;
    await db.exec(await readFile(join(dir, file), 'utf8'));
    applied.add(version);
    pushed.push(file);
  }
  return pushed;
}

/** `createEmpty` answers a database with the Supabase shim and nothing else; each test closes its own. */
export function upgradeSpec(label: string, createEmpty: () => Promise<TestDb>): void {
  describe(`${label}: a database of release 0.1.0, upgraded, is a fresh install`, () => {
    let fresh: Awaited<ReturnType<typeof catalogSnapshot>>;

    beforeAll(async () => {
      const db = await createEmpty();
      try {
        await applyMigrations(db);
        fresh = await catalogSnapshot(db);
      } finally {
        await db.close();
      }
    });

    it('applyMigrations over release 0.1.0: functions, triggers, policies and grants equal a fresh install’s', async () => {
      const db = await createEmpty();
      try {
        for (const m of released) await db.exec(m.sql);
        const before = await catalogSnapshot(db);
        expect(before.functions, 'the upgrade has something to do').not.toEqual(fresh.functions);
        await applyMigrations(db);
        expect(await catalogSnapshot(db)).toEqual(fresh);
      } finally {
        await db.close();
      }
    });

    it('a Supabase project of release 0.1.0 gets only the new files from the CLI, and ends as a fresh install', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ul-upgrade-'));
      const db = await createEmpty();
      try {
        // What `upload-lifecycle migrations --out` of 0.1.0 wrote, then `supabase db push`.
        for (const [i, m] of released.entries())
          await writeFile(
            join(dir, `20260101${String(120000 + i).padStart(6, '0')}_upload_lifecycle_${m.name}`),
            m.sql,
          );
        const applied = new Set<string>();
        await pushNewFiles(db, dir, applied);

        await run(process.execPath, [cli, 'migrations', '--out', dir, '--timestamp', '20270101120000']);
        const pushed = await pushNewFiles(db, dir, applied);

        const releasedNames = new Set(released.map((m) => m.name));
        const newUnits = MIGRATIONS.filter((m) => !releasedNames.has(m.name));
        expect(pushed.map((f) => f.replace(/^\d{14}_upload_lifecycle_/, ''))).toEqual(
          newUnits.map((m) => m.name),
        );
        expect(await catalogSnapshot(db)).toEqual(fresh);
      } finally {
        await db.close();
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('no function is LANGUAGE sql with SECURITY DEFINER or a pinned search_path (re-planned on every call before PostgreSQL 18)', () => {
      const replanned = fresh.functions!.filter(
        (line) =>
          / \| sql [ivs]( definer)? \| config=search_path/.test(line) || / \| sql [ivs] definer /.test(line),
      );
      expect(replanned.filter((l) => /^(upload_lifecycle|public)\./.test(l))).toEqual([]);
    });
  });
}

// Acceptance (issue 13): the client property suite finds each of the twelve defects the upload
// machine had. Each mutant is a copy of `src` with one defect put back (one text replacement,
// checked to apply exactly once, so a refactor cannot void the case) — or, for the one that lived
// in the database, one function redefined. The suite must report a ClientInvariantViolation (not
// a crash) on it within the runs given here.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb, type TestDb } from '../support/db.js';
import {
  ClientInvariantViolation,
  LIB_MODULES,
  assertClientProperty,
  clientSettings,
  prepareClientDatabase,
  type ClientLib,
} from './client-model.js';

interface Mutant {
  defect: number;
  name: string;
  /** A file under src, the text there, and what the defect had instead. */
  file?: string;
  from?: string;
  to?: string;
  /** SQL run after the migrations (a defect of the database). */
  sql?: string;
  /** What the suite says when it finds it. */
  found: RegExp;
}

const MUTANTS: Mutant[] = [
  {
    defect: 1,
    name: 'a valid CREATE leaves { code: UL000, message: "null" }',
    file: 'machines/upload.ts',
    from: 'return { files, error: firstFileError(files) };',
    to: 'return { files, error: serializeError(firstFileError(files)) };',
    found: /error without a message/,
  },
  {
    defect: 2,
    name: 'REMOVE_FILE and CANCEL dropped while starting',
    file: 'machines/upload.ts',
    from: "...whileCalling('starting'),",
    to: "...whileCalling('starting'),\n          REMOVE_FILE: {},\n          CANCEL: {},",
    found: /dropped|still listed|CANCEL was accepted/,
  },
  {
    defect: 3,
    name: 'two files with the same key accepted',
    file: 'machines/upload-files.ts',
    from: 'if (all.some((f) => f.key === entry.key)) {',
    to: 'if (false) {',
    found: /duplicate file keys|each file on its own|does not name it/,
  },
  {
    defect: 4,
    name: 'registration without a client key (a lost answer registers twice)',
    file: 'machines/upload-files.ts',
    from: `  return files.map((f) => ({
    key: f.key,
    slot: f.slot,`,
    to: `  return files.map((f) => ({
    slot: f.slot,`,
    found: /never added|never gave it|is the database's|is registered as/,
  },
  {
    defect: 5,
    name: 'a file removed while registering is never removed: finalize blocked',
    file: 'machines/upload-files.ts',
    from: 'return row ? [{ key: r.key, fileId: row.fileId }] : [];',
    to: 'return row ? [{ key: r.key, fileId: r.fileId }] : [];',
    found: /rests in|completed with removed|still busy/,
  },
  {
    defect: 6,
    name: 'RESUME re-queues files Storage refused',
    file: 'machines/upload-files.ts',
    from: "f.status === 'detached' && hasBytes(f.key)",
    to: "(f.status === 'detached' || f.status === 'error') && hasBytes(f.key)",
    found: /left error/,
  },
  {
    defect: 7,
    name: 'the store works once: release then retain leaves a stopped actor',
    file: 'react/upload-store.ts',
    from: 'if (started && !stopped) return;',
    to: 'if (started) return;',
    found: /actor is stopped/,
  },
  {
    defect: 8,
    name: 'an idempotency key reused with another kind answers that kind’s entity',
    sql: `create or replace function upload_lifecycle.check_idempotent_replay(p_entity_id uuid, p_key text, p_kind text, p_fingerprint text)
          returns void language plpgsql as $$ begin return; end $$;`,
    found: /the user asked for a/,
  },
  {
    defect: 9,
    name: 'a restart by id lists files as db-<fileId>',
    file: 'machines/upload-files.ts',
    from: `        key: row.key,
        slot: row.slot,`,
    to: `        key: \`db-\${row.fileId}\`,
        slot: row.slot,`,
    found: /never gave it|duplicate file keys/,
  },
  {
    defect: 10,
    name: 'progress is a full bar before any file',
    file: 'machines/upload-selectors.ts',
    from: "fraction: selectPhase(snapshot) === 'completed' ? 1 : bytesTotal === 0 ? 0 : bytesSent / bytesTotal,",
    to: 'fraction: bytesTotal === 0 ? (filesUploaded === files.length ? 1 : 0) : bytesSent / bytesTotal,',
    found: /progress 1 with no byte/,
  },
  {
    defect: 11,
    name: 'errors lose their class and fields through the snapshot',
    file: 'core/error-data.ts',
    from: 'if (data.storageCode !== undefined) {',
    to: 'if (false) {',
    found: /comes back as|lost its storageCode/,
  },
  {
    defect: 12,
    name: 'a [good, bad] batch is dropped whole',
    file: 'machines/upload-files.ts',
    from: `  return { accepted, refused };
}`,
    to: `  return refused.length > 0 ? { accepted: [], refused } : { accepted, refused };
}`,
    found: /each file on its own/,
  },
];

const ROOT = resolve(import.meta.dirname, '../..');
const MUTANTS_DIR = join(ROOT, '.mutants');
const RUNS = Number(process.env.PROPERTY_MUTANT_RUNS ?? 400);

/** Copies src, applies the mutant's replacement, and loads the suite's modules from the copy. */
async function mutantLib(mutant: Mutant): Promise<ClientLib | undefined> {
  if (!mutant.file) return undefined;
  const dir = join(MUTANTS_DIR, `defect-${mutant.defect}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  const path = join(dir, 'src', mutant.file);
  const text = readFileSync(path, 'utf8');
  const occurrences = text.split(mutant.from!).length - 1;
  if (occurrences !== 1)
    throw new Error(
      `defect ${mutant.defect}: the text to mutate occurs ${occurrences} times in ${mutant.file}`,
    );
  writeFileSync(path, text.replace(mutant.from!, mutant.to!));
  const load = (part: keyof ClientLib) => import(join(dir, 'src', LIB_MODULES[part]));
  return {
    uploadStore: await load('uploadStore'),
    pgliteAdapter: await load('pgliteAdapter'),
    events: await load('events'),
    selectors: await load('selectors'),
    errorData: await load('errorData'),
    port: await load('port'),
  } as ClientLib;
}

describe('the client property suite finds each defect of issue 13 when it is put back', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createPgliteDb();
  });
  afterAll(async () => {
    await db?.close();
    rmSync(MUTANTS_DIR, { recursive: true, force: true });
  });

  it.each(MUTANTS.map((m) => [m.defect, m.name, m] as const))(
    'defect %i: %s',
    async (_defect, _name, mutant) => {
      const lib = await mutantLib(mutant);
      await prepareClientDatabase(db);
      if (mutant.sql) await db.exec(mutant.sql);
      try {
        const settings = { ...clientSettings(RUNS), numRuns: RUNS };
        const error = await assertClientProperty(`defect ${mutant.defect}`, db, settings, lib).then(
          () => null,
          (e: unknown) => e as Error & { cause?: unknown },
        );
        expect(error, 'the suite passed on the mutant').not.toBeNull();
        const cause = error!.cause;
        expect(cause, String(error)).toBeInstanceOf(ClientInvariantViolation);
        expect((cause as Error).message).toMatch(mutant.found);
      } finally {
        if (mutant.sql) {
          // Put the real function back for the next case.
          const { MIGRATIONS } = await import('../../src/db/migrate.js');
          for (const m of MIGRATIONS.filter((x) => x.sql.includes('check_idempotent_replay')))
            await db.exec(m.sql);
        }
      }
    },
    600_000,
  );
});

// The client upload machine on random command sequences, on the real SQL in PGlite (issue 13).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb, type TestDb } from '../support/db.js';
import { assertClientProperty, clientSettings, prepareClientDatabase } from './client-model.js';

const settings = clientSettings(500);

describe('on PGlite: the upload machine, every command sequence', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createPgliteDb();
    await prepareClientDatabase(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it(`agrees with the database, refuses typed, drops nothing and comes to rest (${settings.numRuns} runs, ≤ ${settings.maxCommands} commands)`, async () => {
    const report = await assertClientProperty('pglite', db, settings);
    expect(report.runs).toBeGreaterThanOrEqual(settings.numRuns);
  }, 1_800_000);
});

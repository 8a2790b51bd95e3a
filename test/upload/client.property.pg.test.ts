// The client upload machine's model-based suite on a real PostgreSQL server (runs when DATABASE_URL is set).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDb, hasServer, type PgTestDb } from '../support/pg.js';
import { assertClientProperty, clientSettings, prepareClientDatabase } from './client-model.js';

const settings = clientSettings(Number(process.env.PROPERTY_CLIENT_PG_RUNS ?? 200));

describe.skipIf(!hasServer)('on PostgreSQL: the upload machine, every command sequence', () => {
  let db: PgTestDb;
  beforeAll(async () => {
    db = await createPgDb({ poolSize: 4 });
    await prepareClientDatabase(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it(`agrees with the database, refuses typed, drops nothing and comes to rest (${settings.numRuns} runs, ≤ ${settings.maxCommands} commands)`, async () => {
    const report = await assertClientProperty('postgres', db, settings);
    expect(report.runs).toBeGreaterThanOrEqual(settings.numRuns);
  }, 1_800_000);
});

// The same property on a real PostgreSQL server (runs when DATABASE_URL is set).
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Capabilities } from '../support/model-lifecycle.js';
import { createPgDb, hasServer, type PgTestDb } from '../support/pg.js';
import { assertLifecycleProperty, detectCapabilities, prepareDatabase, propertySettings } from './harness.js';

const settings = propertySettings(Number(process.env.PROPERTY_PG_RUNS ?? 200));

describe.skipIf(!hasServer)('on PostgreSQL: every command sequence', () => {
  let db: PgTestDb;
  let caps: Capabilities;
  beforeAll(async () => {
    db = await createPgDb({ poolSize: 4 });
    await prepareDatabase(db);
    caps = await detectCapabilities(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it(`is accepted exactly when the lifecycle machine allows it, and keeps every invariant (${settings.numRuns} runs, ≤ ${settings.maxCommands} commands)`, async () => {
    await assertLifecycleProperty('postgres', db, caps, settings);
  }, 1_800_000);
});

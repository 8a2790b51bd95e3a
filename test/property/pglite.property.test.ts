// The database agrees with the lifecycle machine on random command sequences (PGlite).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createPgliteDb, type TestDb } from '../support/db.js';
import type { Capabilities } from '../support/model-lifecycle.js';
import { assertLifecycleProperty, detectCapabilities, prepareDatabase, propertySettings } from './harness.js';

const settings = propertySettings(1000);

describe('on PGlite: every command sequence', () => {
  let db: TestDb;
  let caps: Capabilities;
  beforeAll(async () => {
    db = await createPgliteDb();
    await prepareDatabase(db);
    caps = await detectCapabilities(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it(`is accepted exactly when the lifecycle machine allows it, and keeps every invariant (${settings.numRuns} runs, ≤ ${settings.maxCommands} commands)`, async () => {
    await assertLifecycleProperty('pglite', db, caps, settings);
  }, 1_800_000);
});

// The same property on a real PostgreSQL server (runs when DATABASE_URL is set).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDb, hasServer, type PgTestDb } from '../support/pg.js';
import { propertySettings } from './harness.js';
import { assertLifecycleProperty } from './runner.js';
import { coverageGaps } from './stats.js';

const settings = propertySettings(Number(process.env.PROPERTY_PG_RUNS ?? 200));

describe.skipIf(!hasServer)('on PostgreSQL: every command sequence', () => {
  let db: PgTestDb;
  beforeAll(async () => {
    db = await createPgDb({ poolSize: 4 });
  });
  afterAll(async () => {
    await db?.close();
  });

  it(`is accepted exactly when the lifecycle machine allows it, and keeps every invariant (${settings.numRuns} runs, ≤ ${settings.maxCommands} commands)`, async () => {
    const { stats } = await assertLifecycleProperty('postgres', settings, db);
    if (settings.path) return; // a replay of one counterexample: nothing to count
    expect(stats.runs).toBe(settings.numRuns);
    expect(coverageGaps(stats)).toEqual([]);
    for (const [depth, runs] of Object.entries(stats.depth))
      expect(runs, `${depth} in ${runs} of ${stats.runs} runs`).toBeGreaterThanOrEqual(stats.runs / 5);
  }, 1_800_000);
});

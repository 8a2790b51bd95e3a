// The database agrees with the lifecycle machine on random command sequences (PGlite, sharded over
// worker threads: one PGlite per core).
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { propertySettings } from './harness.js';
import { assertLifecycleProperty } from './runner.js';
import { coverageGaps } from './stats.js';

const settings = propertySettings(5000, Math.min(2, availableParallelism()));

describe('on PGlite: every command sequence', () => {
  it(`is accepted exactly when the lifecycle machine allows it, and keeps every invariant (${settings.numRuns} runs, ≤ ${settings.maxCommands} commands)`, async () => {
    const { stats } = await assertLifecycleProperty('pglite', settings);
    if (settings.path) return; // a replay of one counterexample: nothing to count
    expect(stats.runs).toBe(settings.numRuns);
    // Every pair of the lifecycle table is reached, accepted (and refused by its guard), and
    // every other (status, event) pair is refused.
    expect(coverageGaps(stats)).toEqual([]);
    // The runs go deep: at least a fifth complete an entity, fail one after its upload, retry one.
    for (const [depth, runs] of Object.entries(stats.depth))
      expect(runs, `${depth} in ${runs} of ${stats.runs} runs`).toBeGreaterThanOrEqual(stats.runs / 5);
  }, 1_800_000);
});

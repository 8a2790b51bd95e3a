// The suite of sweep.test.ts on a real PostgreSQL server (runs when DATABASE_URL is set).
import { describe } from 'vitest';
import { createPgDb, hasServer } from '../support/pg.js';
import { sweepSpec } from './specs/sweep.js';

describe.skipIf(!hasServer)('real server', () => {
  sweepSpec('PostgreSQL', () => createPgDb());
});

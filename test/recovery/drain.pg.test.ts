// The suite of drain.test.ts on a real PostgreSQL server (runs when DATABASE_URL is set).
import { describe } from 'vitest';
import { createPgDb, hasServer } from '../support/pg.js';
import { drainSpec } from './specs/drain.js';

describe.skipIf(!hasServer)('real server', () => {
  drainSpec('PostgreSQL', () => createPgDb());
});

// The upgrade acceptance of upgrade.test.ts on a real PostgreSQL server (runs when DATABASE_URL is set).
import { describe } from 'vitest';
import { createPgDb, hasServer } from '../support/pg.js';
import { upgradeSpec } from './specs/upgrade.js';

describe.skipIf(!hasServer)('real server', () => {
  upgradeSpec('PostgreSQL', () => createPgDb({ migrate: false }));
});

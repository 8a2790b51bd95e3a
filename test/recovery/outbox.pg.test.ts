// The suite of outbox.test.ts on a real PostgreSQL server (runs when DATABASE_URL is set).
import { describe } from 'vitest';
import { createPgDb, hasServer } from '../support/pg.js';
import { outboxSpec } from './specs/outbox.js';

describe.skipIf(!hasServer)('real server', () => {
  outboxSpec('PostgreSQL', () => createPgDb());
});

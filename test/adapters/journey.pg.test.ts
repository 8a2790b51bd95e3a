/**
 * The user journey beyond uploading on PostgreSQL 15 (DATABASE_URL): the same tests as on PGlite
 * (journey-suite.ts), so list_uploads and the share RPCs hold on the server Supabase runs.
 */
import { describe } from 'vitest';
import { createPgDb, hasServer } from '../support/pg.js';
import { defineJourneyTests } from './journey-suite.js';

describe.skipIf(!hasServer)('on PostgreSQL 15', () => {
  defineJourneyTests(() => createPgDb());
});

// The deletion workers (specs/drain.ts) on PGlite; drain.pg.test.ts runs them on the real server.
import { createPgliteDb } from '../support/db.js';
import { drainSpec } from './specs/drain.js';

drainSpec('PGlite', createPgliteDb);

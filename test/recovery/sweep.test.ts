// The sweep (specs/sweep.ts) on PGlite; sweep.pg.test.ts runs the same suite on the real server.
import { createPgliteDb } from '../support/db.js';
import { sweepSpec } from './specs/sweep.js';

sweepSpec('PGlite', createPgliteDb);

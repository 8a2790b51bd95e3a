// The deletion outbox (specs/outbox.ts) on PGlite; outbox.pg.test.ts runs the same suite on the real server.
import { createPgliteDb } from '../support/db.js';
import { outboxSpec } from './specs/outbox.js';

outboxSpec('PGlite', createPgliteDb);

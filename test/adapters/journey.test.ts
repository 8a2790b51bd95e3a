/**
 * The user journey beyond uploading on PGlite: discard, list, download, share (journey-suite.ts).
 */
import { createPgliteDb } from '../support/db.js';
import { defineJourneyTests } from './journey-suite.js';

defineJourneyTests(createPgliteDb);

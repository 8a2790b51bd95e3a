/**
 * The adapters' side of the Backend port: the port itself lives in the core
 * (`src/core/port.ts`, re-exported here), and this module adds what only adapters need — reading a
 * Storage answer into a typed error (`src/adapters/storage-errors.ts`, re-exported here).
 */
export * from '../core/port.js';
export { storageError, storageFailure, tokenExpired } from './storage-errors.js';

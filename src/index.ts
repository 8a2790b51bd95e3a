/**
 * `upload-lifecycle`: the lifecycle machine (the formal spec), its types and helpers.
 */
export * from './machines/lifecycle.js';
export { toMermaid, type MermaidOptions } from './machines/diagram.js';
export type { Actor, SqlClient, SqlTx, QueryResult } from './db/client.js';
export * from './errors.js';

/**
 * One round trip per transaction: how the property commands reach the database.
 *
 * The suite's time went into protocol round trips, not SQL: a parameterised query is six of them
 * on PGlite (parse, describe, bind, describe, execute, sync) and a transaction as the RPC caller
 * was four calls (BEGIN, set_config, the statement, COMMIT). Here a transaction is one simple-query
 * script — `begin; <act as>; <statement>; commit` — with the values inlined as SQL literals, so a
 * command costs one round trip plus the work the database does. The role, the claims and the
 * transaction boundary are exactly what PostgREST sets (`set local role` + `request.jwt.claims`),
 * and the deferred completion check still fires at COMMIT.
 */
import { claimsOf, type Actor, type SqlClient } from '../../src/db/client.js';

/** A value as a SQL literal (standard_conforming_strings: only `'` needs doubling). */
export function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.includes('\0')) throw new Error('a SQL literal cannot hold NUL');
  return `'${text.replaceAll("'", "''")}'`;
}

/** A tagged template that inlines every value as a literal: sql`select f(${id}::uuid)`. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? literal(values[i]) : ''), '');
}

/** The statement that makes the rest of the transaction run as `actor` (none for the superuser). */
export function actAsSql(actor: Actor): string {
  const claims = claimsOf(actor);
  if (!claims) return '';
  return `select set_config('request.jwt.claims', ${literal(JSON.stringify(claims))}, true), set_config('role', ${literal(actor.role)}, true);\n`;
}

/**
 * A client that can run a whole transaction script in one round trip. PGlite: `exec` of
 * `begin; …; commit`, rolled back on error. Anything else: the script inside `transaction()`.
 */
export interface ScriptClient extends SqlClient {
  script?(body: string): Promise<unknown>;
}

type Rows = Record<string, unknown>[];

/** The rows of the last statement that answered columns (not `commit`'s, nor `set_config`'s before it). */
function lastRows(result: unknown): Rows {
  const results = (Array.isArray(result) ? result : [result]) as { rows?: Rows; fields?: unknown[] }[];
  for (let i = results.length - 1; i >= 0; i--)
    if (results[i]?.fields?.length && results[i]!.rows) return results[i]!.rows!;
  return [];
}

/**
 * Runs `statement` (one or more statements) in its own transaction as `actor`, in one round trip,
 * and answers the rows of the last statement that returned any columns.
 */
export async function runAs<T = Record<string, unknown>>(
  db: SqlClient,
  actor: Actor,
  statement: string,
): Promise<T[]> {
  const body = `${actAsSql(actor)}${statement}`;
  const client = db as ScriptClient;
  const result = client.script ? await client.script(body) : await db.transaction((tx) => tx.exec(body));
  return lastRows(result) as T[];
}

/** The PGlite side of {@link ScriptClient.script}. */
export function pgliteScript(exec: (text: string) => Promise<unknown>) {
  return async (body: string): Promise<unknown> => {
    try {
      return await exec(`begin;\n${body};\ncommit;`);
    } catch (error) {
      await exec('rollback');
      throw error;
    }
  };
}

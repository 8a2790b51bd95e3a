/**
 * One round trip per command: how the property commands reach the database.
 *
 * The suite's time went into protocol round trips, not SQL: a parameterised query is six of them
 * on PGlite (parse, describe, bind, describe, execute, sync) and a transaction as the RPC caller
 * was four calls (BEGIN, set_config, the statement, COMMIT). Here a command is one simple-query
 * script with the values inlined as SQL literals, so a command costs one round trip plus the work
 * the database does. The role and the claims are exactly what PostgREST sets (`set local role` +
 * `request.jwt.claims`).
 *
 * The deferred completion check still fires at COMMIT: every command is a transaction of its own
 * that commits (or fails) exactly as PostgREST's would, with its own `now()`. (Running a whole
 * sequence in one transaction of savepoints, rolled back at its end, was tried and rejected: `now()`
 * stands still for the whole sequence, so e.g. re-verifying a verified file writes the same
 * timestamp and the file guard rightly lets a no-op through — the suite then judged a different
 * database from the one clients see.)
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
 * What went through a PGlite client that may have changed the database: `writes` counts every
 * script that committed and every other statement sent through the client (a script that failed,
 * or one run with `rollback`, rolled back and counts nothing). A check that finds the count where
 * it left it knows the database is the state it read last, without asking.
 */
export interface ClientWrites {
  /** Statements that may have written, ever (monotonic). */
  writes: number;
  /** Runs begun on this client (for the periodic VACUUM). */
  runs: number;
}

/**
 * A client that can run a whole transaction script in one round trip. PGlite: `exec` of
 * `begin; …; commit`, rolled back on error. Anything else: the script inside `transaction()`.
 */
export interface ScriptClient extends SqlClient {
  script?(body: string, options?: ScriptOptions): Promise<unknown>;
  /** PGlite: what may have written (see {@link ClientWrites}). */
  written?: ClientWrites;
  /**
   * PGlite: runs `text` (one or more statements) in a READ ONLY transaction that is then rolled
   * back, in one round trip, and answers every statement's result. It provably leaves the
   * database as it was, so it counts no write: the invariant checks read through it.
   */
  read?(text: string): Promise<unknown[]>;
  /**
   * PGlite: moves the database's clock `hours` forward (see {@link DbClock}) — time travel
   * without writing a row, so without the trigger bypass that discards every cached plan.
   */
  advanceClock?(hours: number): void;
}

/**
 * The clock of the PGlite databases of this thread, for time travel. PGlite (PostgreSQL compiled
 * to WebAssembly) reads the time from the JavaScript `Date.now()` of the thread it runs in: now(),
 * clock_timestamp(), every default and every trigger's now(). While {@link DbClock.run} runs (one
 * property run: the harness wraps each), that clock runs `offsetMs` ahead of the real one, and
 * advancing it ages every row of the database exactly as moving every stored timestamp into the
 * past would (what the PostgreSQL suites still do, `property_test.shift_timestamps`): the SQL only
 * ever compares a timestamp with now() or with another timestamp. Nothing else in a run reads
 * `Date.now()` (the timings are performance.now()); the real clock is back when the run ends,
 * thrown or not, and the next run's reset deletes every row this one wrote (but the audit log,
 * which the checks read only after the run's watermark). Within a run time only moves forward.
 */
export const DbClock = {
  offsetMs: 0,
  active: false,
  advance(hours: number): void {
    if (!DbClock.active) throw new Error('DbClock.advance outside DbClock.run: the clock would not move');
    DbClock.offsetMs += hours * 3_600_000;
  },
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (DbClock.active) throw new Error('DbClock.run is not reentrant');
    const real = Date.now;
    DbClock.active = true;
    DbClock.offsetMs = 0;
    Date.now = () => real() + DbClock.offsetMs;
    try {
      return await fn();
    } finally {
      Date.now = real;
      DbClock.active = false;
      DbClock.offsetMs = 0;
    }
  },
};

export interface ScriptOptions {
  /**
   * Roll the work back instead of committing it: a probe (the storage server's permission check)
   * or a read — either way the database is provably unchanged afterwards, so it counts no write.
   */
  rollback?: boolean;
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
 * and answers the rows of the last statement that returned any columns. With `rollback`, the work
 * is undone at the end instead of committed (errors still surface).
 */
export async function runAs<T = Record<string, unknown>>(
  db: SqlClient,
  actor: Actor,
  statement: string,
  options: ScriptOptions = {},
): Promise<T[]> {
  const body = `${actAsSql(actor)}${statement}`;
  const client = db as ScriptClient;
  const result = client.script
    ? await client.script(body, options)
    : await db.transaction((tx) => tx.exec(options.rollback ? `${body};\nrollback` : body));
  return lastRows(result) as T[];
}

/** The PGlite side of {@link ScriptClient.read}: `begin read only; …; rollback` in one round trip. */
export function pgliteRead(exec: (text: string) => Promise<unknown>) {
  return async (text: string): Promise<unknown[]> => {
    try {
      return (await exec(`begin read only;\n${text};\nrollback;`)) as unknown[];
    } catch (error) {
      await exec('rollback');
      throw error;
    }
  };
}

/** The PGlite side of {@link ScriptClient.script}. */
export function pgliteScript(exec: (text: string) => Promise<unknown>, written: ClientWrites) {
  return async (body: string, options: ScriptOptions = {}): Promise<unknown> => {
    try {
      const result = await exec(`begin;\n${body};\n${options.rollback ? 'rollback' : 'commit'};`);
      if (!options.rollback) written.writes++;
      return result;
    } catch (error) {
      await exec('rollback');
      throw error;
    }
  };
}

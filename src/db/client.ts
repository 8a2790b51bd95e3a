/**
 * The minimal SQL surface the package needs, satisfied by PGlite and (through a tiny adapter) by
 * `pg`. Keeping it this small is what lets the same code and tests run on both.
 */
export interface QueryResult<T> {
  rows: T[];
}

export interface SqlTx {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<T>>;
  exec(text: string): Promise<unknown>;
}

export interface SqlClient extends SqlTx {
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
}

/** Who a statement runs as, the way Supabase's API sets it (role + `request.jwt.claims`). */
export type Actor =
  | { role: 'anon' }
  | { role: 'authenticated'; userId: string }
  | { role: 'service_role' }
  | { role: 'superuser' };

/** Claims as Supabase's API gateway puts them in `request.jwt.claims` (none for the superuser). */
export function claimsOf(actor: Actor): Record<string, unknown> | null {
  switch (actor.role) {
    case 'anon':
      return { role: 'anon' };
    case 'service_role':
      return { role: 'service_role' };
    case 'authenticated':
      return { role: 'authenticated', sub: actor.userId, aud: 'authenticated' };
    case 'superuser':
      return null;
  }
}

/** Sets role and claims for the rest of the current transaction (`set local`, as PostgREST does). */
export async function actAs(tx: SqlTx, actor: Actor): Promise<void> {
  const claims = claimsOf(actor);
  if (!claims) return;
  await tx.query(`select set_config('request.jwt.claims', $1, true), set_config('role', $2, true)`, [
    JSON.stringify(claims),
    actor.role,
  ]);
}

/** Runs `fn` in its own transaction as `actor`; role and claims end with the transaction. */
export function withActor<T>(db: SqlClient, actor: Actor, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await actAs(tx, actor);
    return fn(tx);
  });
}

/** The slice of PGlite's API this package uses (structural, so PGlite stays an optional peer). */
export interface PgliteQueryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  exec(text: string): Promise<unknown>;
  transaction<T>(
    fn: (tx: { query: PgliteQueryable['query']; exec: PgliteQueryable['exec'] }) => Promise<T>,
  ): Promise<T>;
}

/**
 * A PGlite instance as a {@link SqlClient}.
 *
 * @example
 * ```ts
 * const sql = fromPglite(await PGlite.create());
 * await withActor(sql, { role: 'service_role' }, (tx) => tx.query('select 1'));
 * ```
 */
export function fromPglite(db: PgliteQueryable): SqlClient {
  return {
    query: (text, params) => db.query(text, params) as never,
    exec: (text) => db.exec(text),
    transaction: (fn) =>
      db.transaction((tx) => fn({ query: (t, p) => tx.query(t, p) as never, exec: (t) => tx.exec(t) })),
  };
}

/**
 * `select public.<fn>(name => $1, …)` with its values: a call by named arguments, the way
 * PostgREST (and so supabase-js `rpc()`) calls a function. Objects and arrays go as JSON text.
 *
 * @example
 * ```ts
 * const { text, values } = namedCall('finalize_upload', { entity_id: id });
 * await tx.query(text, values);
 * ```
 */
export function namedCall(fn: string, args: Record<string, unknown>): { text: string; values: unknown[] } {
  const names = Object.keys(args);
  return {
    text: `select public.${fn}(${names.map((n, i) => `${n} => $${i + 1}`).join(', ')}) as result`,
    values: names.map((n) => {
      const v = args[n];
      return v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v;
    }),
  };
}

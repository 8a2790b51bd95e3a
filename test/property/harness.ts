/**
 * The model-based property run, shared by the PGlite and the PostgreSQL suites and by the
 * broken-migrations acceptance test: capabilities detected from the database, the per-run reset,
 * the run parameters (from env vars set by `npm run test:property`) and the property itself.
 */
import fc from 'fast-check';
import { as, createUser, resetDb, service, type SqlClient } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { MODEL_KINDS, MODEL_USERS, emptyModel, type Capabilities } from '../support/model-lifecycle.js';
import {
  commandStats,
  firstCommand,
  formatStats,
  lifecycleCommands,
  timing,
  type Real,
} from './commands/index.js';
import { VISIBILITY_HELPER_SQL } from './invariants.js';
import { REQUIRED_RPCS, rpcDriver, sqlDriver } from './driver.js';

/** The fixed default seed: `npm test` is reproducible; change it on purpose, never per run. */
export const DEFAULT_SEED = 20_261_122;

export interface PropertySettings {
  seed: number;
  numRuns: number;
  maxCommands: number;
  /** fast-check's replay path of a reported failure (`--path`). */
  path: string | undefined;
}

/** Settings from `PROPERTY_SEED`, `PROPERTY_RUNS`, `PROPERTY_MAX_COMMANDS`, `PROPERTY_PATH`. */
export function propertySettings(defaultRuns: number): PropertySettings {
  const env = process.env;
  return {
    seed: env.PROPERTY_SEED ? Number(env.PROPERTY_SEED) : DEFAULT_SEED,
    numRuns: env.PROPERTY_RUNS ? Number(env.PROPERTY_RUNS) : defaultRuns,
    maxCommands: env.PROPERTY_MAX_COMMANDS ? Number(env.PROPERTY_MAX_COMMANDS) : 40,
    path: env.PROPERTY_PATH || undefined,
  };
}

/**
 * What the database offers right now. The suite drives the RPCs once all of docs/rpc.md exists,
 * lets user uploads succeed once storage has an INSERT policy, and switches the sweep command on
 * once `sweep_upload_lifecycle` exists (`PROPERTY_SWEEP=0` forces it off).
 */
export async function detectCapabilities(db: SqlClient): Promise<Capabilities> {
  const { rows } = await db.query<{ rpc: boolean; policies: boolean; sweep: boolean }>(
    `select
       (select bool_and(to_regprocedure(p) is not null) from unnest($1::text[]) p) as rpc,
       exists (select 1 from pg_policies where schemaname = 'storage' and tablename = 'objects'
                 and cmd in ('INSERT', 'ALL')) as policies,
       to_regprocedure('public.sweep_upload_lifecycle(timestamptz,integer)') is not null as sweep`,
    [REQUIRED_RPCS],
  );
  const row = rows[0]!;
  return {
    rpc: process.env.PROPERTY_DRIVER === 'sql' ? false : row.rpc,
    storagePolicies: row.policies,
    sweep: process.env.PROPERTY_SWEEP === '0' ? false : row.sweep,
  };
}

/** Declares the users and kinds every run starts from (once per database). */
export async function prepareDatabase(db: SqlClient): Promise<void> {
  await db.exec(VISIBILITY_HELPER_SQL);
  await resetDb(db);
  for (const id of MODEL_USERS) await createUser(db, id);
  for (const k of MODEL_KINDS)
    await defineKind(db, {
      kind: k.kind,
      bucketId: k.bucketId,
      maxAttempts: k.maxAttempts,
      requirements: k.requirements,
    });
}

const resetSql = new WeakMap<SqlClient, string[]>();

/**
 * Empties what a run writes — entities and everything hanging off them, audit rows, objects —
 * and keeps users, kinds and buckets. Plain DELETEs with triggers off (superuser,
 * `session_replication_role = replica`, so the append-only and storage guards do not fire):
 * about a millisecond on PGlite, where a TRUNCATE costs several.
 */
export async function resetForRun(db: SqlClient): Promise<void> {
  let statements = resetSql.get(db);
  if (!statements) {
    const { rows } = await db.query<{ name: string }>(`
      select format('%I.%I', schemaname, tablename) as name from pg_tables
      where (schemaname = 'upload_lifecycle'
             and tablename not in ('transitions', 'entity_kinds', 'file_requirements'))
         or (schemaname = 'storage' and tablename = 'objects')`);
    statements = rows.map((r) => `delete from ${r.name}`);
    resetSql.set(db, statements);
  }
  await db.transaction(async (tx) => {
    await tx.query(`set local session_replication_role = replica`);
    for (const statement of statements) await tx.query(statement);
  });
}

function realFor(db: SqlClient, caps: Capabilities): Real {
  return {
    db,
    driver: caps.rpc ? rpcDriver : sqlDriver,
    sweep: caps.sweep
      ? (target) => as(target, service, (tx) => tx.query(`select public.sweep_upload_lifecycle()`))
      : undefined,
  };
}

/** The model-based property over `db`: random command sequences, the model and invariants checked at each step. */
export function lifecycleProperty(
  db: SqlClient,
  caps: Capabilities,
  settings: Pick<PropertySettings, 'maxCommands'>,
) {
  return fc.asyncProperty(
    fc.commands(lifecycleCommands({ sweep: caps.sweep }), { maxCommands: settings.maxCommands, size: 'max' }),
    async (commands) => {
      await resetForRun(db);
      const real = realFor(db, caps);
      const model = emptyModel(caps);
      await fc.asyncModelRun(() => ({ model, real }), [firstCommand(), ...commands]);
    },
  );
}

export function describeCaps(caps: Capabilities): string {
  return `driver=${caps.rpc ? 'rpc' : 'sql'} storagePolicies=${caps.storagePolicies} sweep=${caps.sweep}`;
}

/**
 * Runs the property with the settings, printing the seed first (so any run can be replayed) and
 * the speed and per-command accepted/total counts after.
 */
export async function assertLifecycleProperty(
  label: string,
  db: SqlClient,
  caps: Capabilities,
  settings: PropertySettings,
): Promise<void> {
  commandStats.clear();
  timing.step = 0;
  timing.invariants = 0;
  console.log(
    `[property:${label}] seed=${settings.seed} runs=${settings.numRuns} maxCommands=${settings.maxCommands} ${describeCaps(caps)}` +
      ` — every run starts with e0 = create_draft(report, owner u0) as owner — replay: npm run test:property -- --seed ${settings.seed} --runs ${settings.numRuns}`,
  );
  const started = performance.now();
  await fc.assert(lifecycleProperty(db, caps, settings), {
    seed: settings.seed,
    numRuns: settings.numRuns,
    path: settings.path,
    endOnFailure: settings.path !== undefined,
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `[property:${label}] ${settings.numRuns} sequences in ${seconds.toFixed(1)} s = ` +
      `${(settings.numRuns / seconds).toFixed(1)} sequences/s (commands ${(timing.step / 1000).toFixed(1)} s, ` +
      `invariant checks ${(timing.invariants / 1000).toFixed(1)} s)`,
  );
  console.log(`[property:${label}] accepted/total per command: ${formatStats()}`);
}

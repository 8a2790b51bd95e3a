/**
 * The model-based property run, shared by the PGlite and the PostgreSQL suites, the broken-migration
 * acceptance test and the bench: capabilities detected from the database, the per-run reset, the
 * run parameters (from env vars set by `npm run test:property`) and the property itself.
 */
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { applyMigrations } from '../../src/db/migrate.js';
import { createUser, fromPglite, resetDb, service, type SqlClient, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { MODEL_KINDS, MODEL_USERS, emptyModel, type Capabilities } from '../support/model-lifecycle.js';
import { firstCommand, lifecycleCommands, prepareShiftTimestamps, type Real } from './commands/index.js';
import { REQUIRED_RPCS, rpcDriver, sqlDriver } from './driver.js';
import { VISIBILITY_HELPER_SQL, checkCounters } from './invariants.js';
import { DbClock, pgliteRead, pgliteScript, runAs, type ClientWrites, type ScriptClient } from './sql.js';
import { recordRun, stats } from './stats.js';

/** The fixed default seed: `npm test` is reproducible; change it on purpose, never per run. */
export const DEFAULT_SEED = 20_261_122;

export interface PropertySettings {
  seed: number;
  numRuns: number;
  maxCommands: number;
  /** fast-check's replay path of a reported failure (`--path`; with one worker). */
  path: string | undefined;
  /** fc.commands' own replay path of that failure (`--replay-path`), so the commands replay too. */
  replayPath?: string | undefined;
  /** PGlite instances running shards of the runs in parallel (worker threads). */
  workers: number;
}

/** Settings from `PROPERTY_SEED`, `PROPERTY_RUNS`, `PROPERTY_MAX_COMMANDS`, `PROPERTY_PATH`, `PROPERTY_WORKERS`. */
export function propertySettings(defaultRuns: number, defaultWorkers = 1): PropertySettings {
  const env = process.env;
  const path = env.PROPERTY_PATH || undefined;
  return {
    seed: env.PROPERTY_SEED ? Number(env.PROPERTY_SEED) : DEFAULT_SEED,
    numRuns: env.PROPERTY_RUNS ? Number(env.PROPERTY_RUNS) : defaultRuns,
    maxCommands: env.PROPERTY_MAX_COMMANDS ? Number(env.PROPERTY_MAX_COMMANDS) : 40,
    path,
    replayPath: env.PROPERTY_REPLAY_PATH || undefined,
    workers: path ? 1 : env.PROPERTY_WORKERS ? Number(env.PROPERTY_WORKERS) : defaultWorkers,
  };
}

/**
 * What the database offers right now. The suite drives the RPCs when all of docs/rpc.md exists,
 * lets user uploads succeed once storage has an INSERT policy, and switches the sweep command on
 * once `sweep_upload_lifecycle` exists (`PROPERTY_SWEEP=0` forces it off). The suites require all
 * three unless forced off, so a renamed RPC fails them instead of quietly testing less.
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

/** The capabilities the suites expect of the current migrations, unless switched off on purpose. */
export function missingCapabilities(caps: Capabilities): string[] {
  const missing: string[] = [];
  if (!caps.rpc && process.env.PROPERTY_DRIVER !== 'sql')
    missing.push(`an RPC of ${REQUIRED_RPCS.join(', ')}`);
  if (!caps.storagePolicies) missing.push('the storage INSERT policy');
  if (!caps.sweep && process.env.PROPERTY_SWEEP !== '0') missing.push('sweep_upload_lifecycle');
  return missing;
}

/** A PGlite database for the property runs: migrated, with one-round-trip transactions. */
export async function createPropertyDb(): Promise<TestDb> {
  const pglite = await PGlite.create();
  await applyMigrations(pglite, { supabaseShim: true });
  return withPgliteScript(pglite);
}

/**
 * Wraps a migrated PGlite so that the property commands run each transaction in one round trip,
 * and counts what may have written (every committed script, every other statement sent through
 * it), so a check skips re-reading a database nothing wrote to.
 */
export function withPgliteScript(pglite: PGlite): TestDb {
  const written: ClientWrites = { writes: 0, runs: 0 };
  const base = fromPglite(pglite);
  const db: TestDb & ScriptClient = {
    ...base,
    query: (text, params) => {
      written.writes++;
      return base.query(text, params);
    },
    exec: (text) => {
      written.writes++;
      return base.exec(text);
    },
    transaction: (fn) => {
      written.writes++;
      return base.transaction(fn);
    },
    script: pgliteScript((text) => pglite.exec(text), written),
    read: pgliteRead((text) => pglite.exec(text)),
    advanceClock: (hours) => DbClock.advance(hours),
    written,
  };
  return db;
}

/**
 * Runs between two VACUUMs of a PGlite run database. Every reset deletes a run's rows, and PGlite
 * has no autovacuum: without it the dead rows pile up and a deep run slows down as it goes
 * (800 sequences on one PGlite: 14 sequences per CPU second against 20 for the first 100).
 */
const VACUUM_EVERY = 100;

/** Resets the database for the next run (`property_test.reset()`), vacuuming PGlite now and then. */
export async function beginRun(db: SqlClient): Promise<void> {
  const written = (db as ScriptClient).written;
  if (written && ++written.runs % VACUUM_EVERY === 0) await db.exec('vacuum');
  await resetForRun(db);
}

/**
 * Declares the users and kinds every run starts from (once per database), the test-only helpers,
 * and `property_test.reset()`: deletes what a run writes — entities (their files cascade), objects,
 * the outbox and the other data tables — as the superuser with the triggers on, puts back the
 * kinds and requirements the admins changed (so the buckets follow), and moves the run's events
 * watermark: the audit log is append-only, so earlier runs' events stay and the checks read only
 * events after it. One round trip per run. Not `session_replication_role = replica`, the old way
 * past the guards: changing that setting discards every cached plan, so each run paid for
 * planning every RPC's statements again. (Rolling back one transaction per run instead was tried
 * and rejected: `now()` would stand still for the whole sequence; see sql.ts.)
 */
export async function prepareDatabase(db: SqlClient): Promise<void> {
  await db.exec(VISIBILITY_HELPER_SQL);
  await prepareShiftTimestamps(db);
  await resetDb(db);
  for (const id of MODEL_USERS) await createUser(db, id);
  for (const k of MODEL_KINDS)
    await defineKind(db, {
      kind: k.kind,
      bucketId: k.bucketId,
      maxAttempts: k.maxAttempts,
      requirements: k.requirements,
      processors: k.processors?.map((p) => ({ ...p })),
    });
  const { rows } = await db.query<{ name: string }>(`
    select format('%I.%I', schemaname, tablename) as name from pg_tables
    where schemaname = 'upload_lifecycle'
      and tablename not in ('transitions', 'entity_kinds', 'file_requirements', 'entity_events', 'entities',
                            'job_transitions', 'kind_processors')`);
  await db.exec(`
    drop table if exists property_test.initial_kinds, property_test.initial_requirements, property_test.run;
    create table property_test.initial_kinds as select * from upload_lifecycle.entity_kinds;
    create table property_test.initial_requirements as select * from upload_lifecycle.file_requirements;
    create table property_test.run (events_after bigint not null);
    insert into property_test.run values (0);
    create or replace function property_test.reset() returns void language plpgsql as $$
    begin
      perform set_config('storage.allow_delete_query', 'true', true);
      perform set_config('upload_lifecycle.pruning_job_events', 'on', true);
      delete from upload_lifecycle.entities;
      delete from storage.objects;
      ${rows.map((r) => `delete from ${r.name};`).join('\n      ')}
      update property_test.run set events_after = (select coalesce(max(id), 0) from upload_lifecycle.entity_events);
      update upload_lifecycle.entity_kinds k set max_attempts = i.max_attempts, draft_ttl = i.draft_ttl,
             upload_ttl = i.upload_ttl, failed_ttl = i.failed_ttl
        from property_test.initial_kinds i
       where i.kind = k.kind
         and (k.max_attempts, k.draft_ttl, k.upload_ttl, k.failed_ttl)
             is distinct from (i.max_attempts, i.draft_ttl, i.upload_ttl, i.failed_ttl);
      update upload_lifecycle.file_requirements r set min_count = i.min_count, max_count = i.max_count,
             max_bytes = i.max_bytes, allowed_mime_types = i.allowed_mime_types
        from property_test.initial_requirements i
       where i.kind = r.kind and i.slot = r.slot
         and (r.min_count, r.max_count, r.max_bytes, r.allowed_mime_types)
             is distinct from (i.min_count, i.max_count, i.max_bytes, i.allowed_mime_types);
    end
    $$;`);
}

export async function resetForRun(db: SqlClient): Promise<void> {
  await db.exec('select property_test.reset()');
}

function realFor(db: SqlClient, caps: Capabilities): Real {
  return {
    db,
    driver: caps.rpc ? rpcDriver : sqlDriver,
    sweep: caps.sweep
      ? (target) => runAs(target, service, `select public.sweep_upload_lifecycle()`)
      : undefined,
  };
}

/** The model-based property over `db`: random command sequences, the model and invariants checked at each step. */
export function lifecycleProperty(
  db: SqlClient,
  caps: Capabilities,
  settings: Pick<PropertySettings, 'maxCommands' | 'replayPath'>,
) {
  return fc.asyncProperty(
    fc.commands(lifecycleCommands({ sweep: caps.sweep }), {
      maxCommands: settings.maxCommands,
      size: 'max',
      ...(settings.replayPath ? { replayPath: settings.replayPath } : {}),
    }),
    (commands) =>
      // The run's own database clock (PGlite's time travel, see DbClock).
      DbClock.run(async () => {
        const t0 = performance.now();
        await beginRun(db);
        stats.time.reset += performance.now() - t0;
        const real = realFor(db, caps);
        const model = emptyModel(caps);
        await fc.asyncModelRun(() => ({ model, real }), [firstCommand(), ...commands]);
        recordRun(model.depth);
      }),
  );
}

export function describeCaps(caps: Capabilities): string {
  return `driver=${caps.rpc ? 'rpc' : 'sql'} storagePolicies=${caps.storagePolicies} sweep=${caps.sweep}`;
}

/** Copies the invariant checks' counters into the stats (they live in invariants.ts). */
export function collectCheckCounters(): void {
  stats.checks.reads += checkCounters.reads;
  stats.checks.skipped += checkCounters.skipped;
  stats.checks.visibility += checkCounters.visibility;
  checkCounters.reads = checkCounters.skipped = checkCounters.visibility = 0;
}

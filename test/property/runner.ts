/**
 * Runs the lifecycle property, on one database or sharded over worker threads (one PGlite each,
 * so both cores work), and gathers what the runs reached. Shard i runs its share of the runs with
 * seed `seed + i`; every shard's seed is printed, and a failure names the exact replay command.
 */
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import type { SqlClient, TestDb } from '../support/db.js';
import {
  collectCheckCounters,
  createPropertyDb,
  describeCaps,
  detectCapabilities,
  lifecycleProperty,
  missingCapabilities,
  prepareDatabase,
  type PropertySettings,
} from './harness.js';
import {
  formatCoverage,
  formatDepth,
  formatTime,
  mergeStats,
  resetStats,
  stats,
  type RunStats,
} from './stats.js';

export interface ShardSettings {
  seed: number;
  numRuns: number;
  maxCommands: number;
  path?: string | undefined;
  replayPath?: string | undefined;
}

export interface ShardResult {
  seed: number;
  numRuns: number;
  caps: string;
  /** fast-check's report of the first counterexample (seed and replay path included). */
  failure?: string;
  /** The failure's replay paths, for `--path` and `--replay-path`. */
  path?: string;
  replayPath?: string;
  stats: RunStats;
  ms: number;
}

/** Runs one shard on `db` (prepared here) and answers its result; a failing property is data. */
export async function runShard(
  db: SqlClient,
  shard: ShardSettings,
  endOnFailure = false,
): Promise<ShardResult> {
  await prepareDatabase(db);
  const caps = await detectCapabilities(db);
  const missing = missingCapabilities(caps);
  if (missing.length > 0)
    throw new Error(`the migrations lack ${missing.join('; ')}: the property would test less than it says`);
  resetStats();
  const started = performance.now();
  const details = await fc.check(lifecycleProperty(db, caps, shard), {
    seed: shard.seed,
    numRuns: shard.numRuns,
    path: shard.path,
    endOnFailure: endOnFailure || shard.path !== undefined,
  });
  const ms = performance.now() - started;
  collectCheckCounters();
  return {
    seed: shard.seed,
    numRuns: shard.numRuns,
    caps: describeCaps(caps),
    ...(details.failed
      ? {
          failure: `${fc.defaultReportMessage(details) ?? 'failed'}\n${errorText(details.errorInstance)}`,
          path: details.counterexamplePath ?? '',
          replayPath: /replayPath="([^"]*)"/.exec(fc.defaultReportMessage(details) ?? '')?.[1] ?? '',
        }
      : {}),
    stats: stats,
    ms,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** The shards of a run: `workers` of them, the runs split as evenly as they go. */
export function shardsOf(settings: PropertySettings): ShardSettings[] {
  const n = Math.max(1, Math.min(settings.workers, settings.numRuns));
  return Array.from({ length: n }, (_, i) => ({
    seed: settings.seed + i,
    numRuns: Math.floor(settings.numRuns / n) + (i < settings.numRuns % n ? 1 : 0),
    maxCommands: settings.maxCommands,
    ...(n === 1 && settings.path ? { path: settings.path, replayPath: settings.replayPath } : {}),
  }));
}

/** Runs one shard in a worker thread on its own PGlite. */
function runInWorker(shard: ShardSettings): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      execArgv: [],
      workerData: shard,
    });
    let result: ShardResult | undefined;
    worker.once('message', (message: ShardResult | { error: string }) => {
      if ('error' in message) reject(new Error(message.error));
      else result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`property worker (seed ${shard.seed}) exited with code ${code} and no result`));
    });
  });
}

export interface PropertyOutcome {
  shards: ShardResult[];
  stats: RunStats;
  /** Wall time of the whole run, in milliseconds (shards in parallel). */
  ms: number;
}

/**
 * Runs the property per `settings`: on `db` when one worker is asked for (or a database is given),
 * otherwise on `settings.workers` PGlite instances in worker threads.
 */
export async function runProperty(
  settings: PropertySettings,
  db?: SqlClient,
  options: { endOnFailure?: boolean } = {},
): Promise<PropertyOutcome> {
  const shards = shardsOf(settings);
  const started = performance.now();
  let results: ShardResult[];
  if (db) results = [await runShard(db, { ...shards[0]!, numRuns: settings.numRuns }, options.endOnFailure)];
  else if (shards.length === 1) {
    const own: TestDb = await createPropertyDb();
    try {
      results = [await runShard(own, shards[0]!, options.endOnFailure)];
    } finally {
      await own.close();
    }
  } else results = await Promise.all(shards.map(runInWorker));
  return { shards: results, stats: mergeStats(results.map((r) => r.stats)), ms: performance.now() - started };
}

const replay = (seed: number, runs: number, path?: string, replayPath?: string) =>
  `npm run test:property -- --seed ${seed} --runs ${runs} --workers 1${path ? ` --path ${path}` : ''}` +
  (replayPath ? ` --replay-path '${replayPath}'` : '');

/**
 * Runs the property with the settings, printing every shard's seed first (so any run can be
 * replayed), then speed, depth, the time breakdown and the coverage table; throws the first
 * counterexample with its replay command.
 */
export async function assertLifecycleProperty(
  label: string,
  settings: PropertySettings,
  db?: SqlClient,
): Promise<PropertyOutcome> {
  const shards = db ? [{ seed: settings.seed, numRuns: settings.numRuns }] : shardsOf(settings);
  console.log(
    `[property:${label}] seed=${settings.seed} runs=${settings.numRuns} maxCommands=${settings.maxCommands} ` +
      `workers=${shards.length} — every run starts with e0 = create_draft(report, owner u0) as owner — replay: ` +
      shards.map((s) => replay(s.seed, s.numRuns)).join(' | '),
  );
  const outcome = await runProperty(settings, db);
  const failed = outcome.shards.find((s) => s.failure);
  if (failed)
    throw new Error(
      `[property:${label}] counterexample (seed ${failed.seed}) — replay: ${replay(failed.seed, failed.numRuns, failed.path, failed.replayPath)}\n${failed.failure}`,
    );
  const s = outcome.stats;
  const seconds = outcome.ms / 1000;
  console.log(
    `[property:${label}] ${outcome.shards[0]!.caps}: ${settings.numRuns} sequences in ${seconds.toFixed(1)} s = ` +
      `${(settings.numRuns / seconds).toFixed(1)} sequences/s (${outcome.shards.length} worker(s))\n` +
      `[property:${label}] depth: ${formatDepth(s)}\n` +
      `[property:${label}] time (summed over workers): ${formatTime(
        s,
        outcome.shards.reduce((t, x) => t + x.ms, 0),
      )}\n` +
      `[property:${label}] coverage:\n${formatCoverage(s)}`,
  );
  return outcome;
}

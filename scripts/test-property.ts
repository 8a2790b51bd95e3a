/**
 * `npm run test:property -- [--runs N] [--seed S] [--path P] [--workers W] [--max-commands M] [--only NAME]`
 *
 * Runs the model-based property suites (test/property) deeper or replays a failure: the options
 * become PROPERTY_* environment variables read by test/property/harness.ts, then vitest runs.
 *   --runs N          sequences per suite (default: 5000 on PGlite, 200 on PostgreSQL)
 *   --seed S          fast-check seed (default: the fixed seed printed by every run); with W
 *                     workers, worker i runs seed S + i, each printed
 *   --workers W       PGlite instances in worker threads (default: 2, or 1 on one core)
 *   --path P          fast-check replay path from a failure report (with the failure's seed and
 *                     --workers 1: every failure prints this exact command)
 *   --replay-path R   fc.commands' replay path of that failure (printed with it)
 *   --max-commands M  longest sequence (default 40)
 *   --driver sql      drive user commands by direct SQL instead of the RPCs
 *   --sweep off       switch the sweep command off
 *   --only NAME       only the files of test/property whose name starts with NAME (`pglite`, `postgres`, `races`, `broken`)
 *   --client          the client upload machine's suite instead (test/upload/client.property*):
 *                     `npm run test:property:client -- --runs N --seed S [--path P]`
 * The PostgreSQL suites run when DATABASE_URL is set (`eval "$(bash .ci/postgres.sh)"`).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    workers: { type: 'string' },
    'replay-path': { type: 'string' },
    'max-commands': { type: 'string' },
    driver: { type: 'string' },
    sweep: { type: 'string' },
    only: { type: 'string' },
    client: { type: 'boolean' },
  },
});

const env: NodeJS.ProcessEnv = { ...process.env };
if (values.runs) {
  env.PROPERTY_RUNS = values.runs;
  env.PROPERTY_PG_RUNS = values.runs;
  env.PROPERTY_CLIENT_RUNS = values.runs;
}
if (values.seed) env.PROPERTY_SEED = values.seed;
if (values.path) env.PROPERTY_PATH = values.path;
if (values.workers) env.PROPERTY_WORKERS = values.workers;
if (values['replay-path']) env.PROPERTY_REPLAY_PATH = values['replay-path'];
if (values['max-commands']) env.PROPERTY_MAX_COMMANDS = values['max-commands'];
if (values.driver) env.PROPERTY_DRIVER = values.driver;
if (values.sweep === 'off') env.PROPERTY_SWEEP = '0';

const filter = values.client
  ? 'test/upload/client.property'
  : values.only
    ? `test/property/${values.only}`
    : 'test/property';
const result = spawnSync('npx', ['vitest', 'run', filter], { stdio: 'inherit', env });
process.exit(result.status ?? 1);

#!/usr/bin/env node
// upload-lifecycle CLI. Plain JavaScript on purpose: it runs from a fresh install, no build step.
//
//   upload-lifecycle migrations --out supabase/migrations [--timestamp 20260101120000] [--force]
//   upload-lifecycle migrations --print            (one SQL script on stdout, for psql)
//   upload-lifecycle demo                          (the whole lifecycle on PGlite + a local tus server)
//   upload-lifecycle --version
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

// `... --print | head` closes the pipe early: that is the reader being done, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const usage = `usage:
  upload-lifecycle migrations --out <dir> [--timestamp YYYYMMDDHHMMSS] [--force]
      writes the migrations into a Supabase project (supabase/migrations) in the CLI's naming
      scheme <timestamp>_upload_lifecycle_<name>.sql; files already there are left alone
  upload-lifecycle migrations --print
      prints all migrations as one script (psql "$DATABASE_URL" -f -)
  upload-lifecycle demo
      runs the whole lifecycle end to end on PGlite and a local Supabase (RPC + tus Storage) on
      127.0.0.1; exits 0 only if every step behaves as designed
  upload-lifecycle --version
      prints the package version`;

/**
 * What the demo needs besides the package's own dependencies: two optional peers of the entries,
 * and the tus server, which no entry imports and the package therefore does not declare.
 */
const DEMO_PACKAGES = ['@electric-sql/pglite', '@supabase/supabase-js', '@tus/server', '@tus/file-store'];

function fail(message) {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

function parse(argv) {
  const [first, ...others] = argv;
  // `upload-lifecycle --help` has no command: the option is read like any other.
  const [command, rest] = first?.startsWith('-') ? [undefined, argv] : [first, others];
  const options = { command, out: null, timestamp: null, force: false, print: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--out') options.out = rest[++i] ?? fail('--out needs a directory');
    else if (arg === '--timestamp') options.timestamp = rest[++i] ?? fail('--timestamp needs a value');
    else if (arg === '--force') options.force = true;
    else if (arg === '--print') options.print = true;
    else if (arg === '--help' || arg === '-h') options.command = 'help';
    else if (arg === '--version' || arg === '-v') options.command = 'version';
    else fail(`unknown argument: ${arg}`);
  }
  return options;
}

/** YYYYMMDDHHMMSS in UTC. */
function stamp(date) {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Adds `seconds` to a YYYYMMDDHHMMSS stamp, so each migration gets its own ordered version. */
function addSeconds(base, seconds) {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(base);
  if (!m) fail(`--timestamp must be YYYYMMDDHHMMSS, got ${base}`);
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + seconds * 1000);
  return stamp(date);
}

/**
 * The migration sequence: the same array `applyMigrations` runs (src/generated/sql.ts, built from
 * sql/migrations and sql/functions by `npm run generate`). From the package: its compiled copy in
 * dist; in a checkout: the source, through tsx, so an unbuilt or stale dist is never used.
 */
async function migrations() {
  const source = join(packageRoot, 'src', 'generated', 'sql.ts');
  if (existsSync(source)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(source).href, import.meta.url)).MIGRATIONS;
  }
  return (await import(pathToFileURL(join(packageRoot, 'dist', 'generated', 'sql.js')).href)).MIGRATIONS;
}

async function writeMigrations({ out, timestamp, force }) {
  const files = await migrations();
  await mkdir(out, { recursive: true });
  const existing = await readdir(out);
  const base = timestamp ?? stamp(new Date());
  let written = 0;
  for (const [index, file] of files.entries()) {
    const suffix = `_upload_lifecycle_${file.name}`;
    const already = existing.find((n) => n.endsWith(suffix));
    if (already && !force) {
      console.log(`kept    ${join(out, already)}`);
      continue;
    }
    const target = join(out, already ?? `${addSeconds(base, index)}${suffix}`);
    await writeFile(target, file.sql);
    console.log(`wrote   ${target}`);
    written++;
  }
  console.log(`${written} file(s) written; apply with \`supabase db push\`.`);
}

async function demo() {
  const missing = DEMO_PACKAGES.filter((name) => {
    try {
      import.meta.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    console.error(
      `the demo needs ${missing.join(', ')} (the demo's own packages, not installed with upload-lifecycle). Run it with:\n` +
        `  npx ${['upload-lifecycle', ...DEMO_PACKAGES].map((p) => `-p ${p}`).join(' ')} upload-lifecycle demo`,
    );
    process.exit(2);
  }
  const entry = join(packageRoot, 'dist', 'demo', 'main.js');
  if (!existsSync(entry)) fail('dist/demo/main.js is missing: in a checkout, run `npm run demo` instead');
  await import(pathToFileURL(entry).href); // runs the demo; it exits with its own status
}

const options = parse(process.argv.slice(2));
if (options.command === 'migrations' && options.print) {
  process.stdout.write((await migrations()).map((file) => `-- ${file.name}\n${file.sql}\n`).join(''));
} else if (options.command === 'migrations') {
  if (!options.out) fail('migrations needs --out <dir> or --print');
  await writeMigrations(options);
} else if (options.command === 'demo') {
  await demo();
} else if (options.command === 'version') {
  console.log(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
} else if (options.command === 'help' || options.command === undefined) {
  console.log(usage);
} else {
  fail(`unknown command: ${options.command}`);
}

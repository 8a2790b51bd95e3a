/**
 * The list of generated files and how each is rendered. Shared by `npm run generate` and the
 * drift tests, so both always agree on what "up to date" means.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIFECYCLE_TRANSITIONS, UPLOAD_STATUSES, lifecycleMachine } from '../machines/lifecycle.js';
import { toMermaid } from '../machines/diagram.js';
import { JOB_STATUSES, JOB_TRANSITIONS, jobMachine } from '../machines/job.js';
import { renderJobDoc, renderJobSql, type JobSpec } from './job-sql.js';
import { renderInitialStatusSql, renderLifecycleSql, type LifecycleSpec } from './lifecycle-sql.js';
import { renderLifecycleDoc } from './lifecycle-doc.js';
import { renderUploadEventsDoc } from './upload-events-doc.js';
import { parseReleaseBaseline, renderSqlBundle } from './sql-bundle.js';
import { renderSchemaDoc } from './schema-doc.js';
import {
  buildSqlSequence,
  cutRelease,
  type FunctionSource,
  type MigrationSource,
  type ReleaseBaseline,
  type SqlSequence,
} from './sql-sequence.js';

export const LIFECYCLE_SQL_PATH = 'sql/migrations/0037_lifecycle_transitions.sql';
export const JOB_SQL_PATH = 'sql/migrations/0038_job_lifecycle.sql';
export const JOB_DOC_PATH = 'docs/jobs.md';
export const INITIAL_STATUS_SQL_PATH = 'sql/functions/upload_lifecycle.initial_status.sql';
export const LIFECYCLE_DOC_PATH = 'docs/lifecycle.md';
export const SQL_BUNDLE_PATH = 'src/generated/sql.ts';
export const SCHEMA_DOC_PATH = 'docs/schema.md';
export const UPLOAD_EVENTS_DOC_PATH = 'docs/upload-machine.md';

export const lifecycleSpec: LifecycleSpec = {
  statuses: UPLOAD_STATUSES,
  transitions: LIFECYCLE_TRANSITIONS,
};

export const jobSpec: JobSpec = { statuses: JOB_STATUSES, transitions: JOB_TRANSITIONS };

/** initial_status from the machine, keeping the migrations a release added to its file. */
async function renderInitialStatusFile(root: string): Promise<string> {
  const current = await readFile(join(root, INITIAL_STATUS_SQL_PATH), 'utf8').catch(() => '');
  const line = /^-- migrations:([^\n]*)$/m.exec(current)?.[1]?.trim();
  return renderInitialStatusSql(lifecycleSpec, line ? line.split(/\s+/) : undefined);
}

/** The SQL sources as the build sees them: files on disk, the machine's SQL rendered in place. */
export async function readSqlSources(
  root: string,
): Promise<{ migrations: MigrationSource[]; functions: FunctionSource[]; baseline: ReleaseBaseline }> {
  const generated = new Map([
    [LIFECYCLE_SQL_PATH, renderLifecycleSql(lifecycleSpec)],
    [JOB_SQL_PATH, renderJobSql(jobSpec)],
    [INITIAL_STATUS_SQL_PATH, await renderInitialStatusFile(root)],
  ]);
  const read = async (dir: string) => {
    const onDisk = (await readdir(join(root, dir))).filter((n) => n.endsWith('.sql'));
    const fromGenerated = [...generated.keys()]
      .filter((p) => p.startsWith(`${dir}/`))
      .map((p) => p.slice(dir.length + 1));
    const names = [...new Set([...onDisk, ...fromGenerated])].sort();
    return Promise.all(
      names.map(async (name) => ({
        name,
        sql: generated.get(`${dir}/${name}`) ?? (await readFile(join(root, dir, name), 'utf8')),
      })),
    );
  };
  const migrations = await read('sql/migrations');
  const functions = (await read('sql/functions')).map((f) => ({
    name: f.name.replace(/\.sql$/, ''),
    sql: f.sql,
  }));
  const bundle = await readFile(join(root, SQL_BUNDLE_PATH), 'utf8').catch(() => '');
  const baseline = parseReleaseBaseline(bundle);
  if (!baseline) throw new Error(`${SQL_BUNDLE_PATH} records no release: restore it from git`);
  return { migrations, functions, baseline };
}

/** The sequence every installer applies, from the files under `root`. */
export async function readSqlSequence(root: string): Promise<SqlSequence> {
  const { migrations, functions, baseline } = await readSqlSources(root);
  return buildSqlSequence(migrations, functions, baseline);
}

/**
 * Renders every generated file from the current sources: path (relative to root) → content.
 * With `release`, also cuts a release: the pending function-update migration becomes a file of
 * sql/migrations, the functions it carries name it, and the bundle records the new hashes.
 */
export async function renderGeneratedFiles(
  root: string,
  options: { release?: string } = {},
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  files.set(LIFECYCLE_SQL_PATH, renderLifecycleSql(lifecycleSpec));
  files.set(JOB_SQL_PATH, renderJobSql(jobSpec));
  files.set(JOB_DOC_PATH, renderJobDoc(jobSpec, toMermaid(jobMachine)));
  files.set(INITIAL_STATUS_SQL_PATH, await renderInitialStatusFile(root));
  files.set(LIFECYCLE_DOC_PATH, renderLifecycleDoc(lifecycleSpec, toMermaid(lifecycleMachine)));
  files.set(UPLOAD_EVENTS_DOC_PATH, renderUploadEventsDoc());
  let { migrations, functions, baseline } = await readSqlSources(root);
  let sequence = buildSqlSequence(migrations, functions, baseline);
  if (options.release) {
    const cut = cutRelease({ migrations, functions, baseline }, options.release);
    for (const path of cut.written) {
      const [dir, name] = path.split('/').slice(1) as [string, string];
      const source =
        dir === 'migrations'
          ? cut.migrations.find((m) => m.name === name)
          : cut.functions.find((f) => `${f.name}.sql` === name);
      files.set(path, source!.sql);
    }
    ({ migrations, functions, baseline } = cut);
    sequence = buildSqlSequence(migrations, functions, baseline);
  }
  const shim = await readFile(join(root, 'sql/testing/supabase-shim.sql'), 'utf8');
  files.set(SQL_BUNDLE_PATH, renderSqlBundle(sequence.migrations, shim, baseline));
  files.set(SCHEMA_DOC_PATH, await renderSchemaDocFrom(sequence.migrations, shim));
  return files;
}

/** Applies the given SQL to a throwaway PGlite and renders the ER diagram from its catalog. */
async function renderSchemaDocFrom(migrations: readonly { sql: string }[], shim: string): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  try {
    await db.exec(shim);
    for (const m of migrations) await db.exec(m.sql);
    return await renderSchemaDoc(db as never);
  } finally {
    await db.close();
  }
}

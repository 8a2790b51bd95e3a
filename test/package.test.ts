/**
 * The package as users install it: `npm pack` (prepack builds dist/), the tarball unpacked into a
 * fresh project's node_modules next to only what the package declares (dependencies and peer
 * dependencies, linked from this checkout), then every entry point imported by name, the
 * migrations CLI and `upload-lifecycle demo` run from the unpacked package.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
let project: string;
let installed: string;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'upload-lifecycle-package-'));
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = join(project, stdout.trim().split('\n').at(-1)!);
  installed = join(project, 'node_modules', 'upload-lifecycle');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
  };
  // What the package declares, plus what `upload-lifecycle demo` asks for on its command line.
  const demoOnly = ['@tus/server', '@tus/file-store'];
  for (const name of [
    ...Object.keys(manifest.dependencies),
    ...Object.keys(manifest.peerDependencies),
    ...demoOnly,
  ]) {
    const link = join(project, 'node_modules', name);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(root, 'node_modules', name), link, 'dir');
  }
}, 180_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

const node = (args: string[]) =>
  run(process.execPath, args, {
    cwd: project,
    env: { ...process.env, FORCE_COLOR: '0' },
    maxBuffer: 16 * 1024 * 1024,
  });

describe('the published package', { timeout: 180_000 }, () => {
  it('ships dist, sql, docs and the CLI, and no tests or sources of tests', () => {
    for (const path of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/react/index.js',
      'sql/migrations',
      'docs/client-guide.md',
      'bin/upload-lifecycle.mjs',
    ])
      expect(existsSync(join(installed, path)), path).toBe(true);
    expect(existsSync(join(installed, 'test'))).toBe(false);
  });

  it('every entry point imports by name with only the declared dependencies installed', async () => {
    const script = `
      const core = await import('upload-lifecycle');
      const react = await import('upload-lifecycle/react');
      const supabase = await import('upload-lifecycle/supabase');
      const pglite = await import('upload-lifecycle/pglite');
      const sql = await import('upload-lifecycle/sql');
      const worker = await import('upload-lifecycle/worker');
      console.log(JSON.stringify({
        core: typeof core.createUploadMachine, react: typeof react.useUploadLifecycle,
        supabase: typeof supabase.createSupabaseBackend, pglite: typeof pglite.createPgliteBackend,
        sql: Object.keys(sql).length > 0, worker: typeof worker.runWorker,
      }));`;
    const { stdout } = await node(['--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual({
      core: 'function',
      react: 'function',
      supabase: 'function',
      pglite: 'function',
      sql: true,
      worker: 'function',
    });
  });

  it("TypeScript's classic node resolution (no exports map) finds every subpath's types", async () => {
    // typesVersions names every typed subpath of exports, with the same declaration file.
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types?: string }>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    const typed = Object.entries(manifest.exports).flatMap(([path, entry]) =>
      path !== '.' && typeof entry === 'object' && entry.types
        ? [[path.slice(2), [entry.types]] as const]
        : [],
    );
    expect(manifest.typesVersions['*']).toEqual(Object.fromEntries(typed));
    const dir = join(project, 'classic-node');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'use.ts'),
      `import { createUploadMachine, UnknownKindError } from 'upload-lifecycle';
      import { useUploadLifecycle } from 'upload-lifecycle/react';
      import { createSupabaseBackend } from 'upload-lifecycle/supabase';
      import { createPgliteBackend } from 'upload-lifecycle/pglite';
      import * as sql from 'upload-lifecycle/sql';
      import { runWorker } from 'upload-lifecycle/worker';
      // Each is its declared type, not an unresolved \`any\`: a wrong call fails to compile.
      // @ts-expect-error createPgliteBackend needs a database
      createPgliteBackend();
      // @ts-expect-error createSupabaseBackend needs a client
      createSupabaseBackend();
      // @ts-expect-error useUploadLifecycle takes options, not a number
      useUploadLifecycle(1);
      // @ts-expect-error runWorker needs options
      runWorker();
      export const used = [createUploadMachine, UnknownKindError, sql];
      `,
    );
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'commonjs',
          moduleResolution: 'node10',
          ignoreDeprecations: '6.0',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          skipLibCheck: true,
          noEmit: true,
          types: [],
        },
        files: ['use.ts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await node([tsc, '-p', join(dir, 'tsconfig.json')]).catch(
      (e: { stdout: string; code: number }) => e,
    );
    expect(result.stdout).toBe('');
  });

  it('no test server, fault proxy, demo or fixture is importable from a production entry', async () => {
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { import: string }>;
    };
    const entries = Object.values(manifest.exports)
      .map((e) => (typeof e === 'string' ? e : e.import))
      .filter((p) => p.endsWith('.js'));
    expect(entries.length).toBeGreaterThanOrEqual(5);
    // Every module each entry loads, following relative imports through dist.
    const reached = new Set<string>();
    const bare = new Set<string>();
    const queue = entries.map((p) => join(installed, p));
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      const code = await readFile(file, 'utf8');
      for (const [, spec] of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        if (spec!.startsWith('.')) queue.push(join(dirname(file), spec!));
        else bare.add(spec!.replace(/^(@[^/]+\/[^/]+|[^/]+).*$/, '$1'));
      }
    }
    const inDist = [...reached].map((f) => f.slice(installed.length + 1));
    expect(inDist.filter((f) => /(^|\/)(server|demo|test|fixtures?)\//.test(f))).toEqual([]);
    expect(
      [...bare].filter((name) => /^(@tus\/server|@tus\/file-store|pg|vitest|fast-check|tsx)$/.test(name)),
    ).toEqual([]);
    // What is not reached does not ship, except the demo's own bundle behind `upload-lifecycle demo`.
    expect(existsSync(join(installed, 'dist/server'))).toBe(false);
    expect(existsSync(join(installed, 'test'))).toBe(false);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(existsSync(join(installed, 'dist/demo/main.js'))).toBe(true);
    // And the exports map keeps deep imports out.
    const deep = await node([
      '--input-type=module',
      '-e',
      "await import('upload-lifecycle/dist/demo/main.js')",
    ]).catch((e: { stderr: string }) => e);
    expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('`upload-lifecycle --version` prints the version of the installed package', async () => {
    const { stdout } = await node([join(installed, 'bin/upload-lifecycle.mjs'), '--version']);
    const { version } = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(stdout.trim()).toBe(version);
  });

  it('`upload-lifecycle migrations --print` prints every migration', async () => {
    const { stdout } = await node([join(installed, 'bin/upload-lifecycle.mjs'), 'migrations', '--print']);
    expect(stdout).toContain('-- 0001_schema.sql');
    expect(stdout).toContain('create schema');
    // The sequence, functions included (sql/migrations alone would lack them).
    expect(stdout).toContain('create or replace function public.finalize_upload');
  });

  it('`upload-lifecycle demo` runs the whole lifecycle from the installed package and exits 0', async () => {
    const { stdout } = await node([join(installed, 'bin/upload-lifecycle.mjs'), 'demo']);
    expect(stdout).toMatch(/^15 passed, 0 failed$/m);
  });

  it('`upload-lifecycle demo` without the packages it needs says how to run it, and exits 2', async () => {
    await unlink(join(project, 'node_modules', '@tus', 'server'));
    const error = (await node([join(installed, 'bin/upload-lifecycle.mjs'), 'demo']).catch(
      (e: unknown) => e,
    )) as { code?: number; stderr?: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toContain('the demo needs @tus/server');
    expect(error.stderr).toContain('npx -p upload-lifecycle -p @electric-sql/pglite');
  });
});

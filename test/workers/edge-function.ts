/**
 * Runs a function of supabase/functions/ under real Deno 2 (the pinned `deno` npm package), with
 * the published package's specifier mapped onto this checkout's source: what the Edge runtime does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '../..');

/** Starts the Edge Function under Deno; resolves with its URL once `Deno.serve` listens. */
export async function startEdgeFunction(file: string, env: Record<string, string>) {
  const scratch = await mkdtemp(join(tmpdir(), 'upload-lifecycle-deno-'));
  // The function imports the published package (`npm:upload-lifecycle@0/supabase`); here that
  // specifier is mapped onto this checkout's source, everything else comes from node_modules.
  const importMap = join(scratch, 'import_map.json');
  await writeFile(
    importMap,
    JSON.stringify({
      imports: {
        'npm:upload-lifecycle@0/supabase': pathToFileURL(join(root, 'src/adapters/supabase.ts')).href,
        'npm:upload-lifecycle@0/worker': pathToFileURL(join(root, 'src/workers/index.ts')).href,
      },
    }),
  );
  const deno: ChildProcess = spawn(
    join(root, 'node_modules/.bin/deno'),
    [
      'run',
      '--no-prompt',
      '--cached-only', // never the network: npm packages come from node_modules
      '--node-modules-dir=manual',
      '--unstable-sloppy-imports', // the source imports `./x.js` for `./x.ts`, as tsc wants
      `--import-map=${importMap}`,
      '--allow-env',
      '--allow-net=127.0.0.1',
      `--allow-read=${root}`,
      file,
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: scratch,
        DENO_DIR: join(scratch, 'cache'),
        DENO_NO_UPDATE_CHECK: '1',
        NO_COLOR: '1',
        DENO_SERVE_ADDRESS: 'tcp:127.0.0.1:0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /Listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (listening) resolveUrl(listening[1]!);
    };
    deno.stdout!.on('data', onData);
    deno.stderr!.on('data', onData);
    deno.once('exit', (code) => reject(new Error(`deno exited with ${code} before listening:\n${output}`)));
  });
  const exited = new Promise<void>((done) => deno.once('exit', () => done()));
  return {
    url,
    output: () => output,
    async stop() {
      deno.kill('SIGTERM');
      await exited;
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

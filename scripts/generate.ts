/**
 * `npm run generate`: writes every file derived from the machines and the SQL.
 * `npm run generate -- --check` exits 1 listing the files that are out of date.
 * `npm run generate -- --release <version>` also cuts a release of the SQL: the functions changed
 * since the last one get their own numbered migration, and their hashes are recorded
 * (see src/codegen/sql-sequence.ts).
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderGeneratedFiles } from '../src/codegen/generated-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const releaseAt = process.argv.indexOf('--release');
const release = releaseAt < 0 ? undefined : process.argv[releaseAt + 1];
if (releaseAt >= 0 && !release) throw new Error('--release needs the version being released');

const files = await renderGeneratedFiles(root, { release });
const stale: string[] = [];
for (const [path, content] of files) {
  const full = join(root, path);
  const current = await readFile(full, 'utf8').catch(() => null);
  if (current === content) continue;
  stale.push(path);
  if (!check) {
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}
if (check && stale.length > 0) {
  console.error(`out of date (run npm run generate):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
console.log(stale.length === 0 ? 'generated files are up to date' : `wrote ${stale.join(', ')}`);

/**
 * `npm run generate`: writes every file derived from the machines and the SQL.
 * `npm run generate -- --check` exits 1 listing the files that are out of date.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderGeneratedFiles } from '../src/codegen/generated-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const files = await renderGeneratedFiles(root);
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

/**
 * Checks the shipped docs (README.md, docs/):
 *
 * - every claim that cites a test points to a test that exists and passed in the last run. A
 *   citation names the test file by its path in the repository and the test by its full name,
 *   suites joined by " > ":
 *
 *     proof: `test/schema/file-guard.test.ts` › “files follow their entity > a file row never changes except verified_at”
 *
 *   It is text, not a link: the tests are not in the npm package, so a link would be dead there.
 * - every relative link points to a file the package ships (package.json `files`), so no link is
 *   dead in node_modules/upload-lifecycle either.
 *
 * Reads vitest's JSON report (test-results/vitest.json, written by `npm test`). Exits 1 listing
 * every broken citation and link.
 */
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const reportPath = join(root, 'test-results/vitest.json');
const docs = [
  'README.md',
  ...(await readdir(join(root, 'docs'))).filter((n) => n.endsWith('.md')).map((n) => `docs/${n}`),
];

interface Assertion {
  ancestorTitles: string[];
  title: string;
  status: string;
}
interface Report {
  testResults: { name: string; assertionResults: Assertion[] }[];
}

const report: Report | null = existsSync(reportPath) ? JSON.parse(await readFile(reportPath, 'utf8')) : null;
const passed = new Map<string, Map<string, string>>();
for (const file of report?.testResults ?? []) {
  const tests = new Map<string, string>();
  for (const a of file.assertionResults) tests.set([...a.ancestorTitles, a.title].join(' > '), a.status);
  passed.set(relative(root, file.name), tests);
}

const citation = /proof: `(test\/[^`]+\.test\.tsx?)` › “([^”]+)”/g;
const markdownLink = /\]\(([^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\)/g;
const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { files: string[] };
const shipped = (path: string) =>
  ['package.json', 'README.md', 'LICENSE'].includes(path) ||
  manifest.files.some((entry) => path === entry || path.startsWith(`${entry}/`));
const problems: string[] = [];
let citations = 0;
for (const doc of docs) {
  const text = await readFile(join(root, doc), 'utf8');
  for (const match of text.matchAll(markdownLink)) {
    const target = match[1]!.split('#')[0]!;
    if (target === '' || /^[a-z]+:/i.test(target)) continue;
    const file = relative(root, resolve(join(root, dirname(doc)), target));
    if (!shipped(file)) problems.push(`${doc}: links to ${file}, which the package does not ship`);
    else if (!existsSync(join(root, file))) problems.push(`${doc}: links to ${file}, which does not exist`);
  }
  for (const match of text.matchAll(citation)) {
    citations++;
    const file = match[1]!;
    const name = match[2]!;
    if (!existsSync(join(root, file))) {
      problems.push(`${doc}: ${file} does not exist`);
      continue;
    }
    if (!report) continue;
    const tests = passed.get(file);
    const status = tests?.get(name);
    if (status !== 'passed') {
      problems.push(
        `${doc}: "${name}" in ${file} ${status ? `is ${status}` : 'was not found in the test report'}`,
      );
    }
  }
}

if (!report) problems.push(`no test report at ${relative(root, reportPath)}: run the tests first`);
if (problems.length > 0) {
  console.error(`docs cite tests that do not hold:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`docs: ${citations} test citation(s), all passing`);

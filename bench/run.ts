/**
 * `npm run bench [-- --quick]`: runs every section, prints a table and writes bench/results.json.
 * `--quick` (CI) uses small sizes and few rounds and fails only on errors, never on timing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { BenchContext, Figure, Section } from './lib.js';
import { size } from './size.js';
import { memory } from './memory.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

const sections: Record<string, () => Promise<Section>> = {
  size: async () => size,
  memory: async () => memory,
  sweep: async () => (await import('./sweep.js')).sweep,
  guards: async () => (await import('./guards.js')).guards,
  finalize: async () => (await import('./finalize.js')).finalize,
  processing: async () => (await import('./processing.js')).processing,
  upload: async () => (await import('./upload.js')).upload,
  property: async () => (await import('./property.js')).property,
};

const ctx: BenchContext = {
  quick,
  databaseUrl: process.env.DATABASE_URL,
  log: (line) => console.log(`  ${line}`),
};

const results: Record<string, Figure[]> = {};
const started = performance.now();
for (const [name, load] of Object.entries(sections)) {
  if (only && !only.split(',').includes(name)) continue;
  console.log(`• ${name}`);
  const section = await load();
  results[name] = await section(ctx);
}

const rows = Object.values(results).flat();
const width = Math.max(...rows.map((r) => r.name.length), 10);
console.log(
  `\n${'figure'.padEnd(width)}  ${'value'.padStart(12)}  unit        target     met   spread (rounds), 90 % interval of the median`,
);
for (const r of rows) {
  const met = r.met === undefined ? '' : r.met ? 'yes' : 'NO';
  const sp =
    (r.spread ? `${r.spread[0]}–${r.spread[1]} (${r.rounds})` : '') +
    (r.interval ? `, ${r.interval[0]}–${r.interval[1]}` : '');
  console.log(
    `${r.name.padEnd(width)}  ${String(r.value).padStart(12)}  ${r.unit.padEnd(10)}  ${(r.target ?? '').padEnd(9)}  ${met.padEnd(4)}  ${sp}`,
  );
}
const file = quick ? 'bench/results.quick.json' : 'bench/results.json';
// With --only, the other sections keep their last figures (each section records its own date).
const previous: {
  date?: string;
  results?: Record<string, Figure[]>;
  dates?: Record<string, string>;
} = only
  ? await readFile(file, 'utf8')
      .then((text) => JSON.parse(text) as typeof previous)
      .catch(() => ({}))
  : {};
const date = new Date().toISOString();
const output = {
  quick,
  node: process.version,
  date,
  seconds: (performance.now() - started) / 1000,
  ...(only ? { only } : {}),
  dates: {
    ...Object.fromEntries(Object.keys(previous.results ?? {}).map((name) => [name, previous.date ?? ''])),
    ...(previous.dates ?? {}),
    ...Object.fromEntries(Object.keys(results).map((name) => [name, date])),
  },
  results: { ...(previous.results ?? {}), ...results },
};
await writeFile(file, JSON.stringify(output, null, 2) + '\n');
console.log(`\nwrote ${file} in ${output.seconds.toFixed(1)} s`);

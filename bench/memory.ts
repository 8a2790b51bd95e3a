/**
 * Memory: peak RSS of the demo and of one PGlite-backed test file. Every Node process of the
 * command reports its own peak (bench/rss-probe.cjs), including test workers that are killed
 * rather than exit; the figure is the largest.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Figure, Section } from './lib.js';

export function peakRssMb(command: string, args: string[]): { mb: number; status: number | null } {
  const file = join(mkdtempSync(join(tmpdir(), 'rss-')), 'rss.txt');
  const probe = resolve('bench/rss-probe.cjs');
  const result = spawnSync(command, args, {
    env: {
      ...process.env,
      RSS_PROBE_FILE: file,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}`,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const dir = dirname(file);
  const peaks = readdirSync(dir)
    .filter((name) => name.startsWith(`${basename(file)}.`))
    .map((name) => Number(readFileSync(join(dir, name), 'utf8').trim().split(' ')[1]));
  return { mb: Math.max(...peaks) / 1024, status: result.status };
}

export const memory: Section = async (ctx) => {
  const figures: Figure[] = [];
  const demo = peakRssMb('npx', ['tsx', 'src/demo/main.ts']);
  if (demo.status !== 0) throw new Error('the demo failed while measuring its memory');
  figures.push({ name: 'peak RSS: npm run demo', value: Math.round(demo.mb), unit: 'MB' });
  const test = peakRssMb('npx', ['vitest', 'run', 'test/schema/file-guard.test.ts']);
  if (test.status !== 0) throw new Error('the test file failed while measuring its memory');
  figures.push({ name: 'peak RSS: one PGlite test file', value: Math.round(test.mb), unit: 'MB' });
  ctx.log(`demo ${demo.mb.toFixed(0)} MB, test file ${test.mb.toFixed(0)} MB`);
  return figures;
};

/**
 * The source's layers point one way: core (errors, statuses, the Backend port) ← machines ← react;
 * adapters and the database helpers sit beside the machines and never import them. A layer that
 * imports one above it (the cycle machines ↔ adapters this once had) fails here, naming the file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** What each layer may import from `src` (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  core: ['errors'],
  errors: ['core'],
  machines: ['core', 'errors'],
  react: ['core', 'errors', 'machines'],
  adapters: ['core', 'errors', 'db', 'generated'],
  db: ['core', 'errors', 'generated'],
  workers: ['core', 'errors', 'adapters', 'db'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(path: string): string {
  const rel = relative(SRC, path);
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '');
}

describe('source layers', () => {
  const edges = files(SRC).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/(?:import|export)[^'"]*from\s+'(\.[^']+)'/g)].map((m) => ({
      from: relative(SRC, file),
      fromLayer: layerOf(file),
      toLayer: layerOf(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'))),
    }));
  });

  it('sees the imports it checks', () => {
    expect(edges.filter((e) => e.fromLayer === 'machines' && e.toLayer === 'core').length).toBeGreaterThan(0);
  });

  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`${layer} imports only ${allowed.join(', ')}`, () => {
      const wrong = edges
        .filter((e) => e.fromLayer === layer && e.toLayer !== layer && !allowed.includes(e.toLayer))
        .map((e) => `${e.from} → ${e.toLayer}`);
      expect(wrong).toEqual([]);
    });
  }
});

import { describe, expect, it } from 'vitest';
import type { AnyStateNode } from 'xstate';
import { activePaths, toMermaid } from '../../src/machines/diagram.js';
import { lifecycleMachine } from '../../src/machines/lifecycle.js';
import { createUploadMachine } from '../../src/machines/upload.js';
import { createFakeBackend } from '../upload/fake-backend.js';

const upload = createUploadMachine({ backend: createFakeBackend().backend, random: () => 0.5 });

describe('toMermaid draws a machine from its definition', () => {
  it('draws every lifecycle transition with its guard', () => {
    const source = toMermaid(lifecycleMachine);
    expect(source).toContain('uploading --> completed: finalize [requirements_met]');
    expect(source).toContain('failed --> uploading: retry [attempts_left]');
    expect(source).toContain('completed --> [*]');
  });

  it('includes eventless (always) transitions', () => {
    const nodes = (node: AnyStateNode): AnyStateNode[] => [
      node,
      ...Object.values(node.states).flatMap(nodes),
    ];
    const always = nodes(upload.root).filter((node) => (node.always ?? []).length > 0);
    expect(always.length).toBeGreaterThan(0);
    expect(toMermaid(upload)).toMatch(/: always/);
  });

  it('writes no transition inside a composite block and shows no internal xstate.* names', () => {
    for (const machine of [upload, lifecycleMachine]) {
      const lines = toMermaid(machine).split('\n');
      let depth = 0;
      for (const line of lines) {
        if (line.trim().endsWith('{')) depth++;
        else if (line.trim() === '}') depth--;
        else if (depth > 0)
          expect(line, 'transition inside a composite state').not.toMatch(/ --> (?!\[\*\])\w+:/);
      }
      expect(lines.join('\n')).not.toContain('xstate.');
    }
  });

  it('highlights the active states of a nested value', () => {
    expect(activePaths({ finalizing: 'calling' })).toEqual(['finalizing', 'finalizing.calling']);
    expect(toMermaid(lifecycleMachine, { highlight: ['uploading'] })).toContain('class uploading current');
  });
});

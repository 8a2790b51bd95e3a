import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import {
  INITIAL_STATUS_SQL_PATH,
  JOB_DOC_PATH,
  JOB_SQL_PATH,
  LIFECYCLE_DOC_PATH,
  LIFECYCLE_SQL_PATH,
  SCHEMA_DOC_PATH,
  SQL_BUNDLE_PATH,
  UPLOAD_EVENTS_DOC_PATH,
  renderGeneratedFiles,
} from '../src/codegen/generated-files.js';
import { renderLifecycleSql } from '../src/codegen/lifecycle-sql.js';
import { toMermaid } from '../src/machines/diagram.js';
import { UPLOAD_STATUSES, deriveTransitions, lifecycleMachine } from '../src/machines/lifecycle.js';

const root = join(import.meta.dirname, '..');

describe('generated files', () => {
  it('are exactly what `npm run generate` would write from the machine and sql/ (the migration sequence included)', async () => {
    const files = await renderGeneratedFiles(root);
    expect([...files.keys()].sort()).toEqual(
      [
        INITIAL_STATUS_SQL_PATH,
        JOB_DOC_PATH,
        JOB_SQL_PATH,
        LIFECYCLE_DOC_PATH,
        LIFECYCLE_SQL_PATH,
        SCHEMA_DOC_PATH,
        SQL_BUNDLE_PATH,
        UPLOAD_EVENTS_DOC_PATH,
      ].sort(),
    );
    for (const [path, content] of files) {
      const committed = await readFile(join(root, path), 'utf8');
      expect(committed, `${path} is stale: run npm run generate`).toBe(content);
    }
  });

  describe('drift is detected when the machine changes and the files do not', () => {
    // The same machine with one more transition: draft --fail--> failed.
    const original = lifecycleMachine.config as unknown as {
      states: Record<string, { on?: Record<string, unknown> }>;
    };
    const draft = original.states.draft!;
    const mutated = createMachine({
      ...(lifecycleMachine.config as object),
      states: {
        ...original.states,
        draft: { ...draft, on: { ...draft.on, fail: { target: 'failed', meta: { actors: ['owner'] } } } },
      },
    } as never);

    it('the transition table derived from the mutated machine has the extra row', () => {
      expect(deriveTransitions(mutated)).toContainEqual(
        expect.objectContaining({ from: 'draft', event: 'fail', to: 'failed' }),
      );
    });

    it('the committed SQL differs from the mutated machine’s SQL', async () => {
      const committed = await readFile(join(root, LIFECYCLE_SQL_PATH), 'utf8');
      const rendered = renderLifecycleSql({
        statuses: UPLOAD_STATUSES,
        transitions: deriveTransitions(mutated),
      });
      expect(rendered).toContain(`('draft', 'fail', 'failed'`);
      expect(committed).not.toBe(rendered);
    });

    it('the committed diagram differs from the mutated machine’s diagram', async () => {
      const committed = await readFile(join(root, LIFECYCLE_DOC_PATH), 'utf8');
      expect(committed).toContain(toMermaid(lifecycleMachine));
      expect(committed).not.toContain(toMermaid(mutated));
    });
  });
});

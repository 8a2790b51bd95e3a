/**
 * The lifecycle machine is written so Stately's editor can read it from source: its definition
 * is plain data — states, events, targets, meta, and guards and actions by name — with every
 * function in `setup()`'s named implementations. Proof: the config survives a JSON round trip
 * and, given back its named implementations, is the same machine on every row of the table.
 */
import { describe, expect, it } from 'vitest';
import { createMachine, initialTransition, transition, type AnyStateMachine } from 'xstate';
import {
  LIFECYCLE_EVENTS,
  LIFECYCLE_TRANSITIONS,
  lifecycleMachine,
  type LifecycleEvent,
} from '../../src/machines/lifecycle.js';

/** Every path in `value` at which a function sits. */
function functionsIn(value: unknown, path = 'config'): string[] {
  if (typeof value === 'function') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => functionsIn(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => functionsIn(v, `${path}.${k}`));
  }
  return [];
}

/** Every guard and action the config names, wherever it names one. */
function namedImplementations(
  value: unknown,
  found = { guards: new Set<string>(), actions: new Set<string>() },
) {
  if (Array.isArray(value)) value.forEach((v) => namedImplementations(v, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'guard' && typeof v === 'string') found.guards.add(v);
      else if ((key === 'actions' || key === 'entry' || key === 'exit') && v !== undefined) {
        for (const a of [v].flat())
          found.actions.add(typeof a === 'string' ? a : (a as { type: string }).type);
      } else namedImplementations(v, found);
    }
  }
  return found;
}

const config = lifecycleMachine.config;

/** The event named `type`, with its guards' facts set to take the row to `to`. */
const event = (type: (typeof LIFECYCLE_EVENTS)[number], to?: string | null): LifecycleEvent =>
  type === 'finalize'
    ? { type, requirementsMet: true, processorsRequired: to === 'processing' }
    : type === 'processed'
      ? { type, requiredJobsComplete: true }
      : type === 'fail'
        ? { type, reason: 'client_error' }
        : { type };

describe('the lifecycle machine in Stately', () => {
  it('its definition holds no function: guards and actions are referenced by name only', () => {
    expect(functionsIn(config)).toEqual([]);
  });

  it('every guard and action it names is an implementation of setup()', () => {
    const { guards, actions } = namedImplementations(config);
    expect(guards.size).toBeGreaterThan(0);
    expect(actions.size).toBeGreaterThan(0);
    expect([...guards].filter((g) => !(g in lifecycleMachine.implementations.guards))).toEqual([]);
    expect([...actions].filter((a) => !(a in lifecycleMachine.implementations.actions))).toEqual([]);
  });

  it('read back from JSON with its named implementations, it is the same machine on every row', () => {
    const json = JSON.parse(JSON.stringify(config)) as typeof config;
    expect(json).toEqual(config);
    const copy = createMachine(json).provide(lifecycleMachine.implementations) as unknown as AnyStateMachine;
    for (const maxAttempts of [1, 2]) {
      for (const row of LIFECYCLE_TRANSITIONS) {
        const [start] = initialTransition(lifecycleMachine, { maxAttempts });
        const [copyStart] = initialTransition(copy, { maxAttempts });
        expect(copyStart.context).toEqual(start.context);
        // Walk both to the row's `from` the same way, then take the row's event.
        const path = {
          draft: ['create'],
          uploading: ['create', 'begin_upload'],
          failed: ['create', 'begin_upload', 'fail'],
          processing: ['create', 'begin_upload', 'finalize'],
        } as const;
        let a = start;
        let b = copyStart;
        for (const step of row.from === null ? [] : path[row.from as keyof typeof path]) {
          [a] = transition(lifecycleMachine, a, event(step, row.from));
          [b] = transition(copy, b, event(step, row.from));
        }
        [a] = transition(lifecycleMachine, a, event(row.event as (typeof LIFECYCLE_EVENTS)[number], row.to));
        [b] = transition(copy, b, event(row.event as (typeof LIFECYCLE_EVENTS)[number], row.to));
        // With 2 attempts every guard of the table can hold (with 1, retry's attempts_left cannot).
        if (maxAttempts === 2) expect(a.value, `${row.from} --${row.event}--> ${row.to}`).toBe(row.to);
        expect([b.value, b.context], `${row.from} --${row.event}--> (maxAttempts ${maxAttempts})`).toEqual([
          a.value,
          a.context,
        ]);
      }
    }
  });
});

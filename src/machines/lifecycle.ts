/**
 * The upload lifecycle: the single source of truth.
 *
 * A pure, invoke-free XState v5 machine. The SQL transition table, the status enum and the
 * Mermaid diagram in `docs/lifecycle.md` are generated from it (`npm run generate`), and the
 * property tests use its pure {@link transitionLifecycle} as the oracle for the database.
 *
 * Guards take their facts from the event (`finalize.requirementsMet`, `finalize.processorsRequired`,
 * `processed.requiredJobsComplete`) or the context (`attempt`/`maxAttempts`), so the machine never
 * does I/O. `processing` is the wait for the required processing jobs finalize created (the job
 * machine, src/machines/job.ts); `processed` is sent by the database when the last one completes.
 */
import {
  assign,
  initialTransition,
  setup,
  transition,
  type AnyStateMachine,
  type AnyStateNode,
  type SnapshotFrom,
} from 'xstate';

import { UPLOAD_STATUSES, type UploadStatus } from '../core/status.js';

export { UPLOAD_STATUSES, type UploadStatus };

/** The lifecycle events, named as in the SQL `transitions.event` column. */
export const LIFECYCLE_EVENTS = ['create', 'begin_upload', 'finalize', 'processed', 'fail', 'retry'] as const;
/** The name of a lifecycle event (`create`, `begin_upload`, `finalize`, `processed`, `fail`, `retry`). */
export type LifecycleEventType = (typeof LIFECYCLE_EVENTS)[number];

/** Who may cause a transition (documentation; the database enforces it with grants and RPCs). */
export type LifecycleActor = 'owner' | 'service' | 'sweeper' | 'worker';

/** Why an upload failed; `expired` is written by the sweep. */
export type FailureReason = 'client_error' | 'validation' | 'expired' | (string & {});

/** A lifecycle event with what its guards need. */
export type LifecycleEvent =
  | { type: 'create' }
  | { type: 'begin_upload' }
  | {
      type: 'finalize';
      requirementsMet: boolean;
      /** Whether finalize creates at least one required processing job (default false). */
      processorsRequired?: boolean;
    }
  | { type: 'processed'; requiredJobsComplete: boolean }
  | { type: 'fail'; reason: FailureReason }
  | { type: 'retry' };

/** The lifecycle machine's context: attempts used and allowed, the failure reason. */
export interface LifecycleContext {
  /** Upload attempts made so far: 0 in draft, 1 after begin_upload, +1 per retry. */
  attempt: number;
  /** Upload attempts allowed by the entity's kind (`entity_kinds.max_attempts`). */
  maxAttempts: number;
  failureReason: FailureReason | null;
}

/** Input of the lifecycle machine (e.g. the kind's max_attempts). */
export interface LifecycleInput {
  maxAttempts?: number;
}

/** Default for `entity_kinds.max_attempts`. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** Metadata of a state node: the database status it is, or `null` before the row exists. */
interface StatusMeta {
  status: UploadStatus | null;
}

/** Metadata of a transition: who may take it. */
interface TransitionMeta {
  actors: readonly LifecycleActor[];
}

/**
 * The lifecycle machine. The initial state `absent` is "no row yet"; every other state is a
 * database status.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * const actor = createActor(lifecycleMachine, { input: { maxAttempts: 2 } }).start();
 * actor.send({ type: 'create' });
 * actor.send({ type: 'begin_upload' });
 * actor.send({ type: 'finalize', requirementsMet: true });
 * actor.getSnapshot().value; // 'completed'
 * ```
 */
export const lifecycleMachine = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as LifecycleInput,
  },
  guards: {
    // finalize goes to `processing` when it creates required jobs, else straight to `completed`;
    // the two guards are exclusive so the SQL can pick the row by guard (apply_event).
    ready_for_processing: ({ event }) =>
      event.type === 'finalize' && event.requirementsMet && event.processorsRequired === true,
    requirements_met: ({ event }) =>
      event.type === 'finalize' && event.requirementsMet && event.processorsRequired !== true,
    required_jobs_complete: ({ event }) => event.type === 'processed' && event.requiredJobsComplete,
    attempts_left: ({ context }) => context.attempt < context.maxAttempts,
  },
  actions: {
    // The input arrives with the init event: the config stays plain data (no context factory),
    // so Stately's editor reads the machine from this file as it is.
    apply_input: assign({
      maxAttempts: ({ event }) =>
        (event as unknown as { input?: LifecycleInput }).input?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    }),
    start_attempt: assign({ attempt: ({ context }) => context.attempt + 1, failureReason: null }),
    record_failure: assign({
      failureReason: ({ event }) => (event.type === 'fail' ? event.reason : null),
    }),
  },
}).createMachine({
  id: 'upload_lifecycle',
  initial: 'absent',
  context: { attempt: 0, maxAttempts: DEFAULT_MAX_ATTEMPTS, failureReason: null },
  entry: 'apply_input',
  states: {
    absent: {
      meta: { status: null } satisfies StatusMeta,
      on: {
        create: { target: 'draft', meta: { actors: ['owner'] } satisfies TransitionMeta },
      },
    },
    draft: {
      meta: { status: 'draft' } satisfies StatusMeta,
      on: {
        begin_upload: {
          target: 'uploading',
          meta: { actors: ['owner'] } satisfies TransitionMeta,
          actions: 'start_attempt',
        },
      },
    },
    uploading: {
      meta: { status: 'uploading' } satisfies StatusMeta,
      on: {
        finalize: [
          {
            target: 'processing',
            guard: 'ready_for_processing',
            meta: { actors: ['owner', 'service'] } satisfies TransitionMeta,
          },
          {
            target: 'completed',
            guard: 'requirements_met',
            meta: { actors: ['owner', 'service'] } satisfies TransitionMeta,
          },
        ],
        fail: {
          target: 'failed',
          meta: { actors: ['owner', 'service', 'sweeper'] } satisfies TransitionMeta,
          actions: 'record_failure',
        },
      },
    },
    processing: {
      meta: { status: 'processing' } satisfies StatusMeta,
      on: {
        processed: {
          target: 'completed',
          guard: 'required_jobs_complete',
          meta: { actors: ['worker'] } satisfies TransitionMeta,
        },
        fail: {
          target: 'failed',
          meta: { actors: ['owner', 'service', 'worker', 'sweeper'] } satisfies TransitionMeta,
          actions: 'record_failure',
        },
      },
    },
    completed: {
      type: 'final',
      meta: { status: 'completed' } satisfies StatusMeta,
    },
    failed: {
      meta: { status: 'failed' } satisfies StatusMeta,
      on: {
        retry: {
          target: 'uploading',
          guard: 'attempts_left',
          meta: { actors: ['owner'] } satisfies TransitionMeta,
          actions: 'start_attempt',
        },
      },
    },
  },
});

/** A snapshot of {@link lifecycleMachine}. */
export type LifecycleSnapshot = SnapshotFrom<typeof lifecycleMachine>;
/** A state of {@link lifecycleMachine}. */
export type LifecycleState = keyof typeof lifecycleMachine.states;

/** The database status a snapshot stands for (`null` before the row exists). */
export function statusOf(snapshot: LifecycleSnapshot): UploadStatus | null {
  const node = lifecycleMachine.states[snapshot.value as LifecycleState] as AnyStateNode | undefined;
  return (node?.meta as StatusMeta | undefined)?.status ?? null;
}

/** The snapshot of a not-yet-created entity. */
export function initialLifecycle(input: LifecycleInput = {}): LifecycleSnapshot {
  const [snapshot] = initialTransition(lifecycleMachine, input);
  return snapshot;
}

/**
 * A lifecycle snapshot at a given database status, e.g. to replay a row read from the database.
 */
export function lifecycleAt(
  status: UploadStatus,
  context: Partial<LifecycleContext> = {},
): LifecycleSnapshot {
  const base = initialLifecycle({ maxAttempts: context.maxAttempts });
  return lifecycleMachine.resolveState({
    value: status,
    context: { ...base.context, ...context },
  });
}

/** The result of {@link transitionLifecycle}: the next snapshot and whether the event was allowed. */
export interface LifecycleStep {
  /** Whether the event caused a transition (a refused event leaves the snapshot unchanged). */
  accepted: boolean;
  snapshot: LifecycleSnapshot;
  from: UploadStatus | null;
  to: UploadStatus | null;
}

/**
 * The pure transition function of the lifecycle: the oracle the database must agree with.
 *
 * @example
 * ```ts
 * const step = transitionLifecycle(lifecycleAt('draft'), { type: 'finalize', requirementsMet: true });
 * step.accepted; // false: draft → completed is forbidden
 * ```
 */
export function transitionLifecycle(snapshot: LifecycleSnapshot, event: LifecycleEvent): LifecycleStep {
  const from = statusOf(snapshot);
  const [next] = transition(lifecycleMachine, snapshot, event);
  const accepted = next !== snapshot && next.value !== snapshot.value;
  return { accepted, snapshot: accepted ? next : snapshot, from, to: statusOf(next) };
}

/** One row of the lifecycle table: derived from the machine, never written by hand. */
export interface LifecycleTransition {
  from: UploadStatus | null;
  event: LifecycleEventType;
  to: UploadStatus;
  guard: string | null;
  /** Named actions the transition runs (the SQL trigger runs the same, by name). */
  actions: readonly string[];
  actors: readonly LifecycleActor[];
}

/** The lifecycle table of DESIGN.md §1, read off the machine's state nodes. */
export const LIFECYCLE_TRANSITIONS: readonly LifecycleTransition[] = deriveTransitions(lifecycleMachine);

/**
 * Reads the lifecycle table off a machine shaped like {@link lifecycleMachine}: every state node
 * declares its database status in `meta.status`, every transition its actors in `meta.actors`.
 */
export function deriveTransitions(machine: AnyStateMachine): LifecycleTransition[] {
  const rows: LifecycleTransition[] = [];
  for (const node of Object.values(machine.states) as AnyStateNode[]) {
    const from = (node.meta as StatusMeta).status;
    for (const [eventType, definitions] of node.transitions) {
      for (const definition of definitions) {
        const target = definition.target?.[0];
        if (!target) continue;
        const to = (target.meta as StatusMeta | undefined)?.status ?? null;
        if (to === null) throw new Error(`transition into the pre-existence state from ${from}`);
        const guard = definition.guard;
        rows.push({
          from,
          event: eventType as LifecycleEventType,
          to,
          guard: typeof guard === 'string' ? guard : guard ? 'inline' : null,
          actions: definition.actions.map((action) =>
            typeof action === 'string'
              ? action
              : typeof action === 'object' && action !== null && 'type' in action
                ? String(action.type)
                : 'inline',
          ),
          actors: (definition.meta as TransitionMeta | undefined)?.actors ?? [],
        });
      }
    }
  }
  return rows;
}

/** The status a new row must have: the target of `create`. */
export const INITIAL_STATUS: UploadStatus = LIFECYCLE_TRANSITIONS.find((t) => t.from === null)!.to;

/** Whether the lifecycle allows a status change (ignoring guards); same-status is not a change. */
export function isAllowedStatusChange(from: UploadStatus, to: UploadStatus): boolean {
  return LIFECYCLE_TRANSITIONS.some((t) => t.from === from && t.to === to);
}

/** Statuses with no way out. */
export const TERMINAL_STATUSES: readonly UploadStatus[] = UPLOAD_STATUSES.filter(
  (s) => !LIFECYCLE_TRANSITIONS.some((t) => t.from === s),
);

/**
 * The processing job lifecycle: one job per file × processor for the entity's current attempt.
 *
 * A pure, invoke-free XState v5 machine like the upload lifecycle: the SQL enum
 * `upload_lifecycle.job_status`, the table `upload_lifecycle.job_transitions` and the diagram in
 * `docs/jobs.md` are generated from it, and a trigger refuses every other status change of a job,
 * for every role (`upload_lifecycle.guard_job_update`).
 *
 * - `claim` (a worker takes a pending job with a lease) → `running`;
 * - `complete` → `complete` (final); `fail` → `failed` (the error is kept);
 * - from `failed`: `retry` → `pending` while attempts are left (with a backoff, `run_after`);
 *   `bury` → `dead` when none are left or the error is not retryable (the dead-letter row is
 *   written with it);
 * - `lease_expired` → `pending`: the worker stopped heartbeating (crashed); the attempt it used
 *   counts, and a job out of attempts is failed and buried instead;
 * - `cancel` → `cancelled` (final) from any unfinished status: an entity's retry, or its failure,
 *   cancels the jobs of the attempt that is over;
 * - `requeue` → `pending` from `dead`, with fresh attempts (service role, `requeue_failed_upload_job`).
 */
import { assign, setup, type AnyStateNode } from 'xstate';

/** The statuses of a job, in the order of the Postgres enum `upload_lifecycle.job_status`. */
export const JOB_STATUSES = ['pending', 'running', 'complete', 'failed', 'dead', 'cancelled'] as const;
/** A database status of a processing job. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The job events, named as in the SQL `job_transitions.event` column. */
export const JOB_EVENTS = [
  'claim',
  'complete',
  'fail',
  'retry',
  'bury',
  'lease_expired',
  'cancel',
  'requeue',
] as const;
/** The name of a job event. */
export type JobEventType = (typeof JOB_EVENTS)[number];

/** A job event with what its guards need. */
export type JobEvent =
  | { type: 'claim' }
  | { type: 'complete' }
  | { type: 'fail' }
  | { type: 'retry' }
  | { type: 'bury' }
  | { type: 'lease_expired' }
  | { type: 'cancel' }
  | { type: 'requeue' };

/** The job machine's context: attempts used and allowed. */
export interface JobContext {
  /** Runs started (claims) so far. */
  attempt: number;
  /** Runs allowed (`kind_processors.max_attempts`). */
  maxAttempts: number;
}

interface JobStatusMeta {
  status: JobStatus;
}

/**
 * The job machine.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * const job = createActor(jobMachine, { input: { maxAttempts: 1 } }).start();
 * job.send({ type: 'claim' });
 * job.send({ type: 'fail' });
 * job.send({ type: 'bury' });
 * job.getSnapshot().value; // 'dead'
 * ```
 */
export const jobMachine = setup({
  types: {
    context: {} as JobContext,
    events: {} as JobEvent,
    input: {} as { maxAttempts?: number },
  },
  guards: {
    attempts_left: ({ context }) => context.attempt < context.maxAttempts,
  },
  actions: {
    start_run: assign({ attempt: ({ context }) => context.attempt + 1 }),
    reset_attempts: assign({ attempt: 0 }),
  },
}).createMachine({
  id: 'upload_job',
  initial: 'pending',
  context: ({ input }) => ({ attempt: 0, maxAttempts: input?.maxAttempts ?? 3 }),
  states: {
    pending: {
      meta: { status: 'pending' } satisfies JobStatusMeta,
      on: {
        claim: { target: 'running', actions: 'start_run' },
        cancel: { target: 'cancelled' },
      },
    },
    running: {
      meta: { status: 'running' } satisfies JobStatusMeta,
      on: {
        complete: { target: 'complete' },
        fail: { target: 'failed' },
        lease_expired: { target: 'pending', guard: 'attempts_left' },
        cancel: { target: 'cancelled' },
      },
    },
    failed: {
      meta: { status: 'failed' } satisfies JobStatusMeta,
      on: {
        retry: { target: 'pending', guard: 'attempts_left' },
        bury: { target: 'dead' },
        cancel: { target: 'cancelled' },
      },
    },
    dead: {
      meta: { status: 'dead' } satisfies JobStatusMeta,
      on: {
        requeue: { target: 'pending', actions: 'reset_attempts' },
        cancel: { target: 'cancelled' },
      },
    },
    complete: { type: 'final', meta: { status: 'complete' } satisfies JobStatusMeta },
    cancelled: { type: 'final', meta: { status: 'cancelled' } satisfies JobStatusMeta },
  },
});

/** One row of the job transition table: derived from the machine, never written by hand. */
export interface JobTransition {
  from: JobStatus;
  event: JobEventType;
  to: JobStatus;
  guard: string | null;
  actions: readonly string[];
}

/** The job transition table, read off {@link jobMachine}'s state nodes. */
export const JOB_TRANSITIONS: readonly JobTransition[] = (() => {
  const rows: JobTransition[] = [];
  for (const node of Object.values(jobMachine.states) as AnyStateNode[]) {
    const from = (node.meta as JobStatusMeta).status;
    for (const [event, definitions] of node.transitions) {
      for (const definition of definitions) {
        const target = definition.target?.[0];
        if (!target) continue;
        rows.push({
          from,
          event: event as JobEventType,
          to: (target.meta as JobStatusMeta).status,
          guard: typeof definition.guard === 'string' ? definition.guard : definition.guard ? 'inline' : null,
          actions: definition.actions.map((a) =>
            typeof a === 'string'
              ? a
              : typeof a === 'object' && a !== null && 'type' in a
                ? String(a.type)
                : 'inline',
          ),
        });
      }
    }
  }
  return rows;
})();

/** Whether the job machine allows a status change (ignoring guards); same-status is not a change. */
export function isAllowedJobStatusChange(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS.some((t) => t.from === from && t.to === to);
}

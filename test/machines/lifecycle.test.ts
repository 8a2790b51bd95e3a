import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import {
  INITIAL_STATUS,
  LIFECYCLE_TRANSITIONS,
  TERMINAL_STATUSES,
  UPLOAD_STATUSES,
  initialLifecycle,
  lifecycleAt,
  lifecycleMachine,
  statusOf,
  transitionLifecycle,
  type LifecycleEvent,
} from '../../src/machines/lifecycle.js';

const events: LifecycleEvent[] = [
  { type: 'create' },
  { type: 'begin_upload' },
  { type: 'finalize', requirementsMet: true },
  { type: 'finalize', requirementsMet: false },
  { type: 'finalize', requirementsMet: true, processorsRequired: true },
  { type: 'finalize', requirementsMet: false, processorsRequired: true },
  { type: 'processed', requiredJobsComplete: true },
  { type: 'processed', requiredJobsComplete: false },
  { type: 'fail', reason: 'client_error' },
  { type: 'retry' },
];

describe('the lifecycle machine', () => {
  it('has exactly the table of DESIGN.md §1', () => {
    expect(LIFECYCLE_TRANSITIONS.map((t) => [t.from, t.event, t.to, t.guard])).toEqual([
      [null, 'create', 'draft', null],
      ['draft', 'begin_upload', 'uploading', null],
      ['uploading', 'finalize', 'processing', 'ready_for_processing'],
      ['uploading', 'finalize', 'completed', 'requirements_met'],
      ['uploading', 'fail', 'failed', null],
      ['processing', 'processed', 'completed', 'required_jobs_complete'],
      ['processing', 'fail', 'failed', null],
      ['failed', 'retry', 'uploading', 'attempts_left'],
    ]);
    expect(INITIAL_STATUS).toBe('draft');
    expect(TERMINAL_STATUSES).toEqual(['completed']);
  });

  it('starts with no row and is invoke-free', () => {
    expect(statusOf(initialLifecycle())).toBeNull();
    const hasInvoke = Object.values(lifecycleMachine.states).some((node) => node.invoke.length > 0);
    expect(hasInvoke).toBe(false);
  });

  it.each(UPLOAD_STATUSES)(
    'from %s, accepts exactly the events whose row exists (guards permitting)',
    (status) => {
      for (const event of events) {
        const step = transitionLifecycle(lifecycleAt(status, { attempt: 1 }), event);
        // finalize's rows are told apart by their guards: processing when jobs are required.
        const row = LIFECYCLE_TRANSITIONS.find(
          (t) =>
            t.from === status &&
            t.event === event.type &&
            (event.type !== 'finalize' || (t.to === 'processing') === (event.processorsRequired === true)),
        );
        const guardBlocks =
          (event.type === 'finalize' && !event.requirementsMet) ||
          (event.type === 'processed' && !event.requiredJobsComplete);
        expect(step.accepted, `${status} + ${JSON.stringify(event)}`).toBe(Boolean(row) && !guardBlocks);
        expect(step.to).toBe(step.accepted ? row!.to : status);
      }
    },
  );

  it('finalize is refused while requirements are not met', () => {
    const step = transitionLifecycle(lifecycleAt('uploading'), { type: 'finalize', requirementsMet: false });
    expect(step).toMatchObject({ accepted: false, from: 'uploading', to: 'uploading' });
  });

  it('finalize with required processors waits in processing until the required jobs are complete', () => {
    const waiting = transitionLifecycle(lifecycleAt('uploading'), {
      type: 'finalize',
      requirementsMet: true,
      processorsRequired: true,
    });
    expect(waiting).toMatchObject({ accepted: true, from: 'uploading', to: 'processing' });
    expect(
      transitionLifecycle(waiting.snapshot, { type: 'processed', requiredJobsComplete: false }),
    ).toMatchObject({ accepted: false, to: 'processing' });
    expect(
      transitionLifecycle(waiting.snapshot, { type: 'processed', requiredJobsComplete: true }),
    ).toMatchObject({ accepted: true, to: 'completed' });
    expect(
      transitionLifecycle(waiting.snapshot, { type: 'fail', reason: 'processing failed' }),
    ).toMatchObject({ accepted: true, to: 'failed' });
  });

  it('retry counts attempts and stops at maxAttempts', () => {
    const actor = createActor(lifecycleMachine, { input: { maxAttempts: 2 } }).start();
    actor.send({ type: 'create' });
    actor.send({ type: 'begin_upload' });
    expect(actor.getSnapshot().context.attempt).toBe(1);
    actor.send({ type: 'fail', reason: 'client_error' });
    expect(actor.getSnapshot().context.failureReason).toBe('client_error');
    actor.send({ type: 'retry' });
    expect(actor.getSnapshot()).toMatchObject({
      value: 'uploading',
      context: { attempt: 2, failureReason: null },
    });
    actor.send({ type: 'fail', reason: 'expired' });
    actor.send({ type: 'retry' });
    expect(actor.getSnapshot()).toMatchObject({ value: 'failed', context: { attempt: 2 } });
  });

  it('completed is final', () => {
    const actor = createActor(lifecycleMachine, { input: {} }).start();
    actor.send({ type: 'create' });
    actor.send({ type: 'begin_upload' });
    actor.send({ type: 'finalize', requirementsMet: true });
    expect(actor.getSnapshot().status).toBe('done');
    for (const event of events)
      expect(transitionLifecycle(lifecycleAt('completed'), event).accepted).toBe(false);
  });
});

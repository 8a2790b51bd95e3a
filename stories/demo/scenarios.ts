/**
 * Scripts that play the demo into each terminal and error state, through the same actions and
 * fault controls a person would use. A story passes one as `scenario`.
 */
import { waitFor } from 'xstate';
import type { SqlClient } from '../../src/db/client.js';
import {
  selectPhase,
  type UploadActions,
  type UploadSnapshot,
  type UploadStore,
} from '../../src/react/index.js';
import { sweepAfter } from './inspect.js';
import type { SimulatedNetwork } from './network.js';
import { samplePdf, samplePng, sampleText } from './samples.js';

export interface ScenarioContext {
  actions: UploadActions;
  store: UploadStore;
  network: SimulatedNetwork;
  sql: SqlClient;
}

export type ScenarioName =
  | 'completed'
  | 'cancelled'
  | 'attemptsExhausted'
  | 'requirementsNotMet'
  | 'draftExpired'
  | 'invalidFile'
  | 'connectionLost'
  | 'removeWhileStarting';

const TIMEOUT = 60_000;

function until(store: UploadStore, predicate: (s: UploadSnapshot) => boolean) {
  return waitFor(store.actor, predicate, { timeout: TIMEOUT });
}
const phaseIs =
  (...phases: string[]) =>
  (s: UploadSnapshot) =>
    phases.includes(selectPhase(s));
const someProgress = (s: UploadSnapshot) => s.context.files.some((f) => f.bytesSent > 0);

async function toDraft({ actions, store }: ScenarioContext, withPhotos = true) {
  actions.addFiles([samplePdf()], { slot: 'document' });
  if (withPhotos) actions.addFiles([samplePng(300_000, 'front.png')], { slot: 'photos' });
  actions.create({ title: 'Q3 report' });
  await until(store, phaseIs('draft'));
}

async function toUploading(ctx: ScenarioContext) {
  await toDraft(ctx);
  ctx.actions.start();
  await until(ctx.store, someProgress);
}

export const SCENARIOS: Record<ScenarioName, (ctx: ScenarioContext) => Promise<void>> = {
  /** The happy path: draft, files, finalize, `completed` on the database's answer. */
  async completed(ctx) {
    await toDraft(ctx);
    ctx.actions.start();
    await until(ctx.store, phaseIs('completed'));
  },

  /** The user cancels mid-upload: `fail_upload(reason => 'cancelled')`. */
  async cancelled(ctx) {
    await toUploading(ctx);
    ctx.actions.cancel();
    await until(ctx.store, phaseIs('failed'));
  },

  /** Three attempts per entity: the third retry is refused with UL006. */
  async attemptsExhausted(ctx) {
    await toUploading(ctx);
    for (let attempt = 1; attempt <= 3; attempt++) {
      ctx.actions.cancel();
      await until(ctx.store, phaseIs('failed'));
      ctx.actions.retry();
      await until(ctx.store, (s) => phaseIs('uploading', 'failed')(s) && !phaseIs('retrying')(s));
      if (selectPhase(ctx.store.actor.getSnapshot()) === 'failed') return;
    }
  },

  /**
   * Every transfer arrives one byte short: finalize is refused with UL002, the machine replaces
   * the object (x-upsert) and tries again, and after `retry.attempts` refusals it halts and waits
   * for an explicit FINALIZE. The row stays `uploading`.
   */
  async requirementsNotMet(ctx) {
    const rearm = () => {
      if (!ctx.network.getState().corruptNext) ctx.network.corruptNextTransfer();
    };
    rearm();
    const stop = ctx.network.subscribe(rearm);
    try {
      await toDraft(ctx, false);
      ctx.actions.start();
      await until(ctx.store, (s) => s.context.halted);
    } finally {
      stop();
    }
  },

  /** The draft outlives `draft_ttl`; the sweeper deletes it and begin_upload answers UL003. */
  async draftExpired(ctx) {
    await toDraft(ctx);
    await sweepAfter(ctx.sql, 2);
    ctx.actions.start();
    await until(ctx.store, (s) => s.context.error?.code === 'UL003');
  },

  /** A text file in the photos slot: refused before a byte is sent (UL004). */
  async invalidFile(ctx) {
    ctx.actions.addFiles([samplePdf()], { slot: 'document' });
    ctx.actions.addFiles([sampleText()], { slot: 'photos' });
    ctx.actions.create({ title: 'Q3 report' });
    await until(ctx.store, phaseIs('draft'));
    ctx.actions.start();
    await until(ctx.store, (s) => s.context.error?.code === 'UL004');
  },

  /**
   * The user removes the photo while `start_upload` is on its way: the removal is deferred, not
   * dropped — the photo's row is removed once it exists and the entity completes without it.
   */
  async removeWhileStarting(ctx) {
    await toDraft(ctx);
    const photo = ctx.store.actor.getSnapshot().context.files.find((f) => f.slot === 'photos')!;
    ctx.actions.start();
    ctx.actions.removeFile(photo.key);
    const done = await until(ctx.store, phaseIs('completed'));
    if (done.context.files.length !== 1) throw new Error(`completed with ${done.context.files.length} files`);
  },

  /** The connection stays down longer than the retries last: the upload is suspended, resumable. */
  async connectionLost(ctx) {
    await toUploading(ctx);
    ctx.network.dropConnection(600_000);
    await until(ctx.store, phaseIs('suspended'));
  },
};

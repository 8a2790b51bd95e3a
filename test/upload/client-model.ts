/**
 * The client upload machine, proven the way the database is: random command sequences (fast-check
 * `fc.commands`) drive the real machine, through the real store, on the embedded backend running
 * the real SQL — with a simulated clock and a fault-injecting wrapper around the backend. After
 * every command the invariants below must hold; at the end of every run, once faults stop and the
 * clock is drained, the machine must rest (liveness).
 *
 * Commands: every user event (ADD_FILES valid / invalid / duplicate key, REMOVE_FILE, CREATE with
 * and without a key and with another kind, START, CANCEL, RETRY, RETRY_FILE, FINALIZE, RESUME
 * with and without sources), backend faults (a network error before or after each RPC takes
 * effect, storage refusals, stalled transfers released or dropped), time, a reload (the store
 * persisted to storage, a new store from it: bytes are gone), a restart by entity id, and a store
 * release/retain (React's `<Activity>`).
 *
 * Invariants after every command:
 *  1. the machine says `completed` only when the database does;
 *  2. a removed file is never part of a completed entity; a cancel that was not refused never
 *     lets the entity complete;
 *  3. every user event changes the snapshot: handled, deferred, or refused with the typed
 *     `NotAcceptingError` naming it exactly where USER_EVENT_POLICY says so — never dropped;
 *  4. a transfer actor exists exactly while its file is `uploading`; no other child survives;
 *  5. `error` is null or a real error; a file has an error exactly when it is in `error`;
 *  6. the database's own invariants (completed rows complete, events replay to every status),
 *     and every registered file of the machine is the database row of the same key.
 * Liveness: the machine rests in completed, failed, draft/idle, uploading waiting for the user
 * with an error, or suspended naming what it needs — never busy — and then it is `completed`
 * exactly when the database's row is.
 */
import fc from 'fast-check';
import { SimulatedClock } from 'xstate';
import type { Backend, ObjectTransfer } from '../../src/adapters/backend.js';
import * as port from '../../src/core/port.js';
import * as pgliteAdapter from '../../src/adapters/pglite.js';
import * as errorData from '../../src/core/error-data.js';
import * as events from '../../src/machines/upload-events.js';
import type { UploadPhase, UserEvent } from '../../src/machines/upload-events.js';
import { mimeAllowed } from '../../src/core/mime.js';
import * as selectors from '../../src/machines/upload-selectors.js';
import type { UploadSnapshot } from '../../src/machines/upload-selectors.js';
import * as uploadStore from '../../src/react/upload-store.js';
import type { SnapshotStorage, UploadStore } from '../../src/react/upload-store.js';
import type { SqlClient } from '../support/db.js';
import { prepareDatabase, resetForRun } from '../property/harness.js';
import { MODEL_KINDS, MODEL_USERS } from '../support/model-lifecycle.js';
import { checkDatabaseInvariants, readState } from '../property/invariants.js';

export const CLIENT_DEFAULT_SEED = 20_261_201;

/**
 * The code under test, as modules: the real ones by default; the mutation test passes copies of
 * `src` with one defect put back (test/upload/client-mutants.test.ts).
 */
export interface ClientLib {
  uploadStore: Pick<typeof uploadStore, 'createUploadStore'>;
  pgliteAdapter: Pick<typeof pgliteAdapter, 'createPgliteBackend'>;
  events: Pick<typeof events, 'USER_EVENT_POLICY'>;
  selectors: Pick<typeof selectors, 'selectIsBusy' | 'selectPhase' | 'selectProgress'>;
  errorData: Pick<typeof errorData, 'deserializeError'>;
  /** The errors a backend raises: the faults are made of the same classes the machine checks for. */
  port: Pick<typeof port, 'abortError' | 'networkError' | 'StorageTransferError'>;
}

export const REAL_LIB: ClientLib = { uploadStore, pgliteAdapter, events, selectors, errorData, port };

/** The module of each part of {@link ClientLib}, relative to `src` (for the mutation test). */
export const LIB_MODULES: Record<keyof ClientLib, string> = {
  uploadStore: 'react/upload-store.ts',
  pgliteAdapter: 'adapters/pglite.ts',
  events: 'machines/upload-events.ts',
  selectors: 'machines/upload-selectors.ts',
  errorData: 'core/error-data.ts',
  port: 'core/port.ts',
};

let lib: ClientLib = REAL_LIB;
const selectPhase = (s: UploadSnapshot) => lib.selectors.selectPhase(s);
const selectIsBusy = (s: UploadSnapshot) => lib.selectors.selectIsBusy(s);
const policyOf = (phase: UploadPhase) => lib.events.USER_EVENT_POLICY[phase];

export interface ClientSettings {
  seed: number;
  numRuns: number;
  maxCommands: number;
  path: string | undefined;
}

/** From `PROPERTY_SEED`, `PROPERTY_CLIENT_RUNS` / `PROPERTY_RUNS`, `PROPERTY_MAX_COMMANDS`, `PROPERTY_PATH`. */
export function clientSettings(defaultRuns: number): ClientSettings {
  const env = process.env;
  return {
    seed: env.PROPERTY_SEED ? Number(env.PROPERTY_SEED) : CLIENT_DEFAULT_SEED,
    numRuns: Number(env.PROPERTY_CLIENT_RUNS ?? env.PROPERTY_RUNS ?? defaultRuns),
    maxCommands: env.PROPERTY_MAX_COMMANDS ? Number(env.PROPERTY_MAX_COMMANDS) : 30,
    path: env.PROPERTY_PATH || undefined,
  };
}

const OWNER = MODEL_USERS[0];
const KIND = MODEL_KINDS.find((k) => k.kind === 'report')!;
const OTHER_KIND = MODEL_KINDS.find((k) => k.kind === 'song')!;
const RPCS = [
  'createDraft',
  'startUpload',
  'registerFiles',
  'removeFile',
  'finalizeUpload',
  'failUpload',
  'retryUpload',
  'getUploadState',
  'deleteUpload',
] as const;
/** RPCs the faulty backend wraps but the generated sequences do not pick (the machine never calls them). */
const OTHER_RPCS = ['listUploads'] as const;
type Rpc = (typeof RPCS)[number] | (typeof OTHER_RPCS)[number];

export class ClientInvariantViolation extends Error {
  override name = 'ClientInvariantViolation';
}
function fail(message: string): never {
  throw new ClientInvariantViolation(message);
}

/**
 * The database the client suite runs on: the same users, kinds and per-run reset as the database
 * suite (`prepareDatabase`), so both read the database through the same helpers.
 */
export async function prepareClientDatabase(db: SqlClient): Promise<void> {
  await prepareDatabase(db);
}

type FaultWhen = 'before' | 'after';

/**
 * The backend under test: the embedded backend on the real SQL, with faults on demand, stalled
 * transfers held until released, and a count of calls in flight so a command can wait for quiet.
 */
function createFaultyBackend(db: SqlClient) {
  const inner = lib.pgliteAdapter.createPgliteBackend(db, { userId: OWNER });
  const faults = new Map<string, FaultWhen[]>();
  const inFlight = new Set<Promise<unknown>>();
  const stalled: { release(): void; drop(): void }[] = [];
  /** RPCs whose next call waits at the door until released (a slow network). */
  const hold = new Set<string>();
  const control = { stall: false, refuseNextTransfer: false, rpcs: 0 };

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  };
  const nextFault = (name: string) => faults.get(name)?.shift();
  const lost = () => lib.port.networkError(new Error('connection reset (injected)'));

  function rpc<K extends Rpc>(name: K): Backend[K] {
    const call = (args: unknown[]) =>
      track(
        (async () => {
          control.rpcs++;
          const fault = nextFault(name);
          if (fault === 'before') throw lost();
          const result = await (inner[name] as (...a: unknown[]) => Promise<unknown>)(...args);
          if (fault === 'after') throw lost();
          return result;
        })(),
      );
    return ((...args: unknown[]) => {
      const held = hold.delete(name) || hold.delete('*');
      if (!held) return call(args);
      return new Promise((resolve, reject) => {
        stalled.push({ release: () => resolve(call(args)), drop: () => reject(lost()) });
      });
    }) as Backend[K];
  }

  async function uploadObject(transfer: ObjectTransfer): Promise<void> {
    if (control.stall) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(lib.port.abortError());
        transfer.signal.addEventListener('abort', onAbort, { once: true });
        stalled.push({ release: resolve, drop: () => reject(lost()) });
      });
    }
    return track(
      (async () => {
        if (transfer.signal.aborted) throw lib.port.abortError();
        if (control.refuseNextTransfer) {
          control.refuseNextTransfer = false;
          throw new lib.port.StorageTransferError({
            message: 'new row violates row-level security policy (injected)',
            status: 403,
            storageCode: 'AccessDenied',
            retryable: false,
          });
        }
        const fault = nextFault('uploadObject');
        if (fault === 'before') throw lost();
        await inner.uploadObject(transfer);
        if (fault === 'after') throw lost();
      })(),
    );
  }

  const backend: Backend = {
    name: 'pglite (faults)',
    ...(Object.fromEntries([...RPCS, ...OTHER_RPCS].map((name) => [name, rpc(name)])) as Pick<Backend, Rpc>),
    beginUpload: rpc('startUpload') as never,
    registerFile: () => Promise.reject(new Error('the machine registers in batches')),
    uploadObject,
  };
  return {
    backend,
    control,
    fault(name: string, when: FaultWhen) {
      faults.set(name, [...(faults.get(name) ?? []), when]);
    },
    /** The next call of `name` (`'*'`: of any RPC) waits until released. */
    hold(name: Rpc | '*') {
      hold.add(name);
    },
    clearFaults() {
      faults.clear();
      hold.clear();
      control.stall = false;
      control.refuseNextTransfer = false;
    },
    releaseStalled(drop: boolean) {
      for (const s of stalled.splice(0)) (drop ? s.drop : s.release)();
    },
    /** Resolves once no call is in flight (stalled transfers are not "in flight"). */
    async quiet(): Promise<void> {
      for (let i = 0; i < 200; i++) {
        if (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        await new Promise((r) => setImmediate(r));
        if (inFlight.size === 0) {
          await new Promise((r) => setImmediate(r));
          if (inFlight.size === 0) return;
        }
      }
      fail('the backend never went quiet');
    },
  };
}

type FaultyBackend = ReturnType<typeof createFaultyBackend>;

function memoryStorage(): SnapshotStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

/** The run's world: the database, the faulty backend, the clock, the store, what the user did. */
export interface ClientReal {
  db: SqlClient;
  faulty: FaultyBackend;
  clock: SimulatedClock;
  storage: ReturnType<typeof memoryStorage>;
  store: UploadStore;
  release: (() => void) | null;
  /** The bytes of every file the user picked, by key (to RESUME after a reload). */
  bytes: Map<string, Uint8Array>;
  /** Keys the user removed (and did not add again). */
  removed: Set<string>;
  /** Every key the machine ever accepted. */
  everAdded: Set<string>;
  /** CANCEL accepted (not refused) and not yet honoured by `failed`. */
  cancelIntent: boolean;
  /** DISCARD accepted (not refused) and not yet honoured by `discarded` nor answered by a refusal. */
  discardIntent: boolean;
  /** Entities the machine said it discarded: gone from the database for good. */
  discarded: Set<string>;
  /** Entities the machine sent `delete_upload` for (its answer may have been lost). */
  deleteSent: Set<string>;
  /** The kind the user asked the entity to be (null after a restart by id: whatever it is). */
  requestedKind: string | null;
  /** Set by the subscription when the machine said completed and the database did not agree etc. */
  violation: string | null;
  stats: Map<string, number>;
}

const PERSIST_KEY = 'upload';

function newStore(real: Omit<ClientReal, 'store' | 'release'>, entityId?: string): UploadStore {
  return lib.uploadStore.createUploadStore({
    backend: real.faulty.backend,
    kind: KIND.kind,
    persistKey: PERSIST_KEY,
    storage: real.storage,
    clock: real.clock,
    scheduler: (flush) => (flush(), () => {}),
    random: () => 0.5,
    concurrency: 2,
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, factor: 2, jitter: 0.5 },
    ...(entityId !== undefined && { entityId }),
  });
}

function attach(real: ClientReal, store: UploadStore): void {
  real.store = store;
  real.release = store.retain();
  watch(real);
}

/** Watches every snapshot of the current actor for what must never be seen, even for a moment. */
function watch(real: ClientReal): void {
  let previous: string | null = null;
  real.store.actor.subscribe((snapshot) => {
    const phase = selectPhase(snapshot);
    if (phase === 'completed' && real.discardIntent) {
      const stale = snapshot.context.error?.message.startsWith('DISCARD is not accepted while completed');
      if (!stale) real.violation ??= 'completed although a DISCARD was accepted (and not reported stale)';
    }
    if (phase === 'discarding' && snapshot.context.entityId !== null)
      real.deleteSent.add(snapshot.context.entityId);
    if (phase === 'discarded') {
      real.discardIntent = false;
      if (snapshot.context.entityId !== null) real.discarded.add(snapshot.context.entityId);
    }
    // delete_upload went unanswered or was refused: the machine reads the entity and says why;
    // the discard did not happen, and the user sends it again.
    if (previous === 'discarding' && phase === 'loading') real.discardIntent = false;
    if (snapshot.context.error?.message.startsWith('DISCARD is not accepted')) real.discardIntent = false;
    previous = phase;
    if (selectPhase(snapshot) === 'completed' && real.cancelIntent) {
      const stale = snapshot.context.error?.message.startsWith('CANCEL is not accepted while completed');
      if (!stale) real.violation ??= 'completed although a CANCEL was accepted (and not reported stale)';
    }
    if (selectPhase(snapshot) === 'failed') real.cancelIntent = false;
    // The machine said the cancel could not apply (a draft, or the upload was over): it is void.
    if (snapshot.context.error?.message.startsWith('CANCEL is not accepted')) real.cancelIntent = false;
  });
}

const snapshotOf = (real: ClientReal): UploadSnapshot => real.store.actor.getSnapshot();

/** Waits until nothing is in flight and the snapshot stops changing. */
async function settle(real: ClientReal): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const before = snapshotOf(real);
    await real.faulty.quiet();
    if (snapshotOf(real) === before) return;
  }
  fail('the machine never settled');
}

function count(real: ClientReal, key: string): void {
  real.stats.set(key, (real.stats.get(key) ?? 0) + 1);
}

/** Sends a user event and checks at once that it was handled, deferred or refused as the table says. */
function sendUserEvent(real: ClientReal, event: UserEvent): void {
  const before = snapshotOf(real);
  const phase = selectPhase(before) as UploadPhase;
  real.store.send(event);
  const after = snapshotOf(real);
  const policy = policyOf(phase)[event.type];
  count(real, `${phase}:${event.type}:${policy}`);
  if (real.store.actor.getSnapshot().status === 'stopped') return;
  if (after === before) fail(`${event.type} in ${phase} was dropped: the snapshot did not change`);
  const refusedMessage = `${event.type} is not accepted while ${phase}`;
  const refused = after.context.error?.code === 'UL005' && after.context.error.message === refusedMessage;
  if (policy === 'refuse') {
    if (!refused)
      fail(
        `${event.type} in ${phase} should be refused with a typed error; error is ${JSON.stringify(after.context.error)}`,
      );
    const { error: _a, ...restAfter } = after.context;
    const { error: _b, ...restBefore } = before.context;
    if (JSON.stringify(restAfter) !== JSON.stringify(restBefore))
      fail(`refusing ${event.type} in ${phase} changed the context`);
    if (JSON.stringify(after.value) !== JSON.stringify(before.value))
      fail(`refusing ${event.type} in ${phase} changed the state`);
  } else if (refused) {
    fail(`${event.type} in ${phase} should be ${policy}d, but it was refused`);
  }
}

async function checkInvariants(real: ClientReal): Promise<void> {
  if (real.violation) fail(real.violation);
  const s = snapshotOf(real);
  const ctx = s.context;
  const phase = selectPhase(s);

  if (real.store.actor.getSnapshot().status !== 'active')
    fail(`the store's actor is ${real.store.actor.getSnapshot().status}`);

  // 3b. progress: no full bar before the bytes are there
  const progress = lib.selectors.selectProgress(s);
  if (progress.fraction < 0 || progress.fraction > 1) fail(`progress ${progress.fraction}`);
  if (phase !== 'completed' && progress.bytesSent === 0 && progress.fraction !== 0) {
    fail(`progress ${progress.fraction} with no byte acknowledged`);
  }

  // 4. children
  const transfers = Object.keys(s.children)
    .filter((id) => id.startsWith('transfer:'))
    .sort();
  const uploading = ctx.files
    .filter((f) => f.status === 'uploading')
    .map((f) => `transfer:${f.key}`)
    .sort();
  if (JSON.stringify(transfers) !== JSON.stringify(uploading)) {
    fail(`transfer actors ${transfers.join(',')} but uploading files ${uploading.join(',')}`);
  }
  const others = Object.keys(s.children).filter((id) => !id.startsWith('transfer:'));
  if (others.length > 1) fail(`more than one call in flight: ${others.join(', ')}`);

  // 5. errors
  if (
    ctx.error !== null &&
    (!ctx.error.message || /^(null|undefined)$|\[object Object\]/.test(ctx.error.message))
  ) {
    fail(`error without a message: ${JSON.stringify(ctx.error)}`);
  }
  for (const f of ctx.files) {
    // A file in error says why; an uploaded one has none (a retrying one may show its last failure).
    if ((f.status === 'error' && f.error === null) || (f.status === 'uploaded' && f.error !== null)) {
      fail(`file ${f.key} is ${f.status} with error ${JSON.stringify(f.error)}`);
    }
  }
  const keys = ctx.files.map((f) => f.key);
  if (new Set(keys).size !== keys.length) fail(`duplicate file keys ${keys.join(',')}`);
  for (const key of keys)
    if (!real.everAdded.has(key)) fail(`file ${key} is listed under a key the user never gave it`);
  // Errors come back as the class they were thrown as, with their fields.
  for (const e of [ctx.error, ...ctx.files.map((f) => f.error)]) {
    if (!e) continue;
    count(real, `error:${e.name}`);
    const typed = lib.errorData.deserializeError(e) as unknown as Record<string, unknown>;
    if (typed.name !== e.name || typed.code !== e.code)
      fail(`${e.name}/${e.code} comes back as ${String(typed.name)}/${String(typed.code)}`);
    if (e.storageCode !== undefined && typed.storageCode !== e.storageCode)
      fail(`${e.name} lost its storageCode`);
  }

  // 6. the database
  const state = await readState(real.db);
  checkDatabaseInvariants(state);
  // 7. a discarded entity is gone, and stays gone
  for (const id of real.discarded) {
    if (state.entities.some((e) => e.id === id)) fail(`discarded entity ${id} is still in the database`);
  }
  if (phase === 'discarded') {
    if (ctx.files.length > 0) fail(`discarded with ${ctx.files.length} file(s) still listed`);
    if (ctx.entityId !== null && !real.discarded.has(ctx.entityId))
      fail(`discarded ${ctx.entityId} was never seen being discarded`);
  } else if (
    ctx.entityId !== null &&
    (real.discarded.has(ctx.entityId) || real.deleteSent.has(ctx.entityId)) &&
    !state.entities.some((e) => e.id === ctx.entityId)
  ) {
    // A page restarted by the id of an entity it had (perhaps) discarded: reading it (perhaps held by a
    // slow network), suspended (it said UL003: not found) or trying a call that will be told the
    // same; never a resting phase that claims the row exists.
    if (['draft', 'uploading', 'completed', 'failed'].includes(phase))
      fail(`restarted on discarded ${ctx.entityId}: ${phase} with ${JSON.stringify(ctx.error)}`);
  } else if (ctx.entityId !== null) {
    const row = state.entities.find((e) => e.id === ctx.entityId);
    if (!row) fail(`the machine's entity ${ctx.entityId} does not exist`);
    if (ctx.status !== null && row.kind !== ctx.kind) {
      fail(`the machine's kind ${ctx.kind} is not the entity's ${row.kind}`);
    }
    if (real.requestedKind !== null && row.kind !== real.requestedKind) {
      fail(`the user asked for a ${real.requestedKind}; the machine adopted a ${row.kind}`);
    }
    const { rows } = await real.db.query<{ id: string; file_key: string }>(
      'select id, file_key from upload_lifecycle.entity_files where entity_id = $1',
      [ctx.entityId],
    );
    for (const f of ctx.files.filter((x) => x.fileId !== null)) {
      const dbRow = rows.find((r) => r.id === f.fileId);
      if (!dbRow) fail(`file ${f.key} is registered as ${f.fileId}, which the database does not have`);
      if (dbRow.file_key !== f.key) fail(`file ${f.key} is the database's ${dbRow.file_key}`);
    }
    for (const r of rows) {
      if (!real.everAdded.has(r.file_key)) fail(`the database has a file ${r.file_key} the user never added`);
    }
    // 1. completed only on the database's word
    if (phase === 'completed' && row.status !== 'completed')
      fail(`the machine is completed, the database ${row.status}`);
    // 2. removed files never complete
    // Checked once the machine knows: a removal deferred while it was still reading the entity
    // may concern an entity that was completed all along.
    if (row.status === 'completed' && phase === 'completed') {
      // A removal the machine could not make (the entity completed first) must be visible: the
      // file is listed again and the error said so; then it is no longer a removed file.
      for (const r of rows) {
        if (real.removed.has(r.file_key) && ctx.files.some((f) => f.key === r.file_key))
          real.removed.delete(r.file_key);
      }
      const removedThere = rows.filter((r) => real.removed.has(r.file_key));
      if (removedThere.length > 0)
        fail(`completed with removed file(s) ${removedThere.map((r) => r.file_key).join(', ')}`);
    }
  } else if (phase === 'completed') {
    fail('completed without an entity');
  }
}

// ── commands ────────────────────────────────────────────────────────────────────────────────────

abstract class ClientCommand implements fc.AsyncCommand<object, ClientReal> {
  check = () => true;
  abstract act(real: ClientReal): Promise<void> | void;
  /** Whether this command may take a file out of `error` (only the user's RETRY, RETRY_FILE or REMOVE_FILE). */
  mayLiftErrors(_key: string): boolean {
    return false;
  }
  async run(_m: object, real: ClientReal): Promise<void> {
    count(real, `cmd:${this.constructor.name}`);
    const before = snapshotOf(real)
      .context.files.filter((f) => f.status === 'error')
      .map((f) => f.key);
    const storeBefore = real.store;
    await this.act(real);
    await settle(real);
    await checkInvariants(real);
    if (real.store !== storeBefore) return; // a new page: its files are what the database says
    for (const key of before) {
      const now = snapshotOf(real).context.files.find((f) => f.key === key);
      if (now && now.status !== 'error' && !this.mayLiftErrors(key)) {
        fail(`file ${key} left error (${now.status}) on ${this.toString()}, which does not retry it`);
      }
    }
  }
  abstract toString(): string;
}

interface FileSpec {
  slot: 'document' | 'photos';
  size: number;
  mime: string;
  key: string | undefined;
  name: string;
}

/**
 * The model of ADD_FILES: each file on its own, in order — a duplicate key is refused; once the
 * requirements are known, so is a file its slot does not allow or one too many.
 */
function expectedAcceptance(
  before: UploadSnapshot,
  files: readonly FileSpec[],
): { accepted: string[]; refused: string[] } {
  const { context } = before;
  const taken = context.files.map((f) => ({ key: f.key, slot: f.slot }));
  const accepted: string[] = [];
  const refused: string[] = [];
  files.forEach((spec, i) => {
    const key = spec.key ?? `f${context.sequence + i + 1}`;
    let ok = !taken.some((t) => t.key === key);
    const requirement = context.requirements?.find((r) => r.slot === spec.slot);
    if (ok && context.requirements) {
      ok =
        requirement !== undefined &&
        spec.size > 0 &&
        spec.size <= requirement.maxBytes &&
        mimeAllowed(spec.mime, requirement.allowedMimeTypes) &&
        taken.filter((t) => t.slot === spec.slot).length < requirement.maxCount;
    }
    if (ok) {
      accepted.push(key);
      taken.push({ key, slot: spec.slot });
    } else refused.push(spec.name);
  });
  return { accepted, refused };
}

class AddFiles extends ClientCommand {
  constructor(readonly files: FileSpec[]) {
    super();
  }
  act(real: ClientReal) {
    const snapshot = snapshotOf(real);
    const before = new Set(snapshot.context.files.map((f) => f.key));
    const refusedByState = policyOf(selectPhase(snapshot) as UploadPhase).ADD_FILES === 'refuse';
    const expected = expectedAcceptance(snapshot, this.files);
    const bodies = this.files.map((f) => new Uint8Array(f.size));
    sendUserEvent(real, {
      type: 'ADD_FILES',
      files: this.files.map((f, i) => ({
        slot: f.slot,
        body: bodies[i]!,
        name: f.name,
        type: f.mime,
        ...(f.key !== undefined && { key: f.key }),
      })),
    });
    const after = snapshotOf(real);
    const added = after.context.files.filter((f) => !before.has(f.key));
    if (refusedByState) return;
    if (JSON.stringify(added.map((f) => f.key)) !== JSON.stringify(expected.accepted)) {
      fail(
        `ADD_FILES accepted ${added.map((f) => f.key).join(',') || 'nothing'}; each file on its own: ${expected.accepted.join(',') || 'nothing'}`,
      );
    }
    if (expected.refused.length > 0 && !after.context.error?.message.startsWith(`${expected.refused[0]}: `)) {
      fail(
        `refusing ${expected.refused[0]} the error does not name it: ${JSON.stringify(after.context.error)}`,
      );
    }
    for (const entry of added) {
      const i = this.files.findIndex((f) => f.name === entry.name);
      if (i >= 0) real.bytes.set(entry.key, bodies[i]!);
      real.removed.delete(entry.key);
      real.everAdded.add(entry.key);
    }
  }
  toString() {
    return `AddFiles(${this.files.map((f) => `${f.key ?? '-'}:${f.slot}:${f.mime}:${f.size}`).join(' ')})`;
  }
}

class RemoveFile extends ClientCommand {
  constructor(readonly pick: number) {
    super();
  }
  act(real: ClientReal) {
    const all = snapshotOf(real).context.files;
    // Mostly the way users do it: remove the file that was refused.
    const inError = all.filter((f) => f.status === 'error');
    const files = inError.length > 0 && this.pick % 3 !== 0 ? inError : all;
    const key = files.length > 0 ? files[this.pick % files.length]!.key : 'nope';
    const phase = selectPhase(snapshotOf(real)) as UploadPhase;
    const known = all.some((f) => f.key === key);
    sendUserEvent(real, { type: 'REMOVE_FILE', key });
    if (policyOf(phase).REMOVE_FILE === 'refuse' || !known) return;
    // Handled or deferred: the file leaves the list at once (its row follows when it can).
    if (snapshotOf(real).context.files.some((f) => f.key === key))
      fail(`REMOVE_FILE ${key} in ${phase}: still listed`);
    real.removed.add(key);
    real.bytes.delete(key);
  }
  toString() {
    return `RemoveFile(${this.pick})`;
  }
}

class Create extends ClientCommand {
  constructor(
    readonly key: string | undefined,
    readonly otherKind: boolean,
    readonly start: boolean,
  ) {
    super();
  }
  act(real: ClientReal) {
    const before = snapshotOf(real);
    const kind = this.otherKind ? OTHER_KIND.kind : (before.context.kind ?? KIND.kind);
    sendUserEvent(real, {
      type: 'CREATE',
      metadata: { title: 'T' },
      ...(this.key !== undefined && { idempotencyKey: this.key }),
      ...(this.otherKind && { kind: OTHER_KIND.kind }),
      ...(this.start && { start: true }),
    });
    if (selectPhase(before) === 'idle' && selectPhase(snapshotOf(real)) === 'creating')
      real.requestedKind = kind;
  }
  toString() {
    return `Create(${this.key ?? '-'}${this.otherKind ? ', song' : ''}${this.start ? ', start' : ''})`;
  }
}

class UserEventCommand extends ClientCommand {
  /** `slow`: on a slow network — the call this event makes is still in flight when the next command comes. */
  constructor(
    readonly type: 'START' | 'CANCEL' | 'RETRY' | 'FINALIZE' | 'DISCARD',
    readonly slow = false,
  ) {
    super();
  }
  override mayLiftErrors() {
    return this.type === 'RETRY';
  }
  act(real: ClientReal) {
    if (this.slow) real.faulty.hold('*');
    const before = snapshotOf(real);
    const phase = selectPhase(before) as UploadPhase;
    sendUserEvent(real, { type: this.type });
    if (phase === 'idle' && selectPhase(snapshotOf(real)) === 'creating') {
      real.requestedKind = before.context.kind ?? KIND.kind;
    }
    if (this.type === 'CANCEL' && policyOf(phase).CANCEL !== 'refuse') real.cancelIntent = true;
    if (this.type === 'DISCARD' && policyOf(phase).DISCARD !== 'refuse') {
      const now = selectPhase(snapshotOf(real));
      // Handled at once without an entity (idle): already discarded; otherwise pending.
      if (now !== 'discarded') real.discardIntent = true;
    }
  }
  toString() {
    return this.slow ? `${this.type}(slow)` : this.type;
  }
}

class RetryFile extends ClientCommand {
  constructor(readonly pick: number) {
    super();
  }
  override mayLiftErrors() {
    return true;
  }
  act(real: ClientReal) {
    const files = snapshotOf(real).context.files;
    const inError = files.filter((f) => f.status === 'error');
    const pool = inError.length > 0 ? inError : files;
    const key = pool.length > 0 ? pool[this.pick % pool.length]!.key : 'nope';
    sendUserEvent(real, { type: 'RETRY_FILE', key });
  }
  toString() {
    return `RetryFile(${this.pick})`;
  }
}

class Resume extends ClientCommand {
  constructor(readonly mode: 'sources' | 'none' | 'unknown') {
    super();
  }
  act(real: ClientReal) {
    const detached = snapshotOf(real).context.files.filter(
      (f) => f.status === 'detached' && real.bytes.has(f.key),
    );
    const sources =
      this.mode === 'sources'
        ? Object.fromEntries(detached.map((f) => [f.key, real.bytes.get(f.key)!]))
        : this.mode === 'unknown'
          ? { 'no-such-file': new Uint8Array(1) }
          : undefined;
    sendUserEvent(real, sources ? { type: 'RESUME', sources } : { type: 'RESUME' });
  }
  toString() {
    return `Resume(${this.mode})`;
  }
}

class Fault extends ClientCommand {
  constructor(
    readonly method: Rpc | 'uploadObject',
    readonly when: FaultWhen,
  ) {
    super();
  }
  act(real: ClientReal) {
    real.faulty.fault(this.method, this.when);
  }
  toString() {
    return `Fault(${this.method}, ${this.when})`;
  }
}

/** The next call of an RPC waits until ReleaseStalled: user events arrive while it is in flight. */
class Hold extends ClientCommand {
  constructor(readonly method: Rpc | '*') {
    super();
  }
  act(real: ClientReal) {
    real.faulty.hold(this.method);
  }
  toString() {
    return `Hold(${this.method})`;
  }
}

class RefuseNextTransfer extends ClientCommand {
  act(real: ClientReal) {
    real.faulty.control.refuseNextTransfer = true;
  }
  toString() {
    return 'RefuseNextTransfer';
  }
}

class Stall extends ClientCommand {
  constructor(readonly on: boolean) {
    super();
  }
  act(real: ClientReal) {
    real.faulty.control.stall = this.on;
  }
  toString() {
    return `Stall(${this.on})`;
  }
}

class ReleaseStalled extends ClientCommand {
  constructor(readonly drop: boolean) {
    super();
  }
  /** A held retry_upload answered now: the new attempt re-queues the files in error. */
  override mayLiftErrors() {
    return true;
  }
  act(real: ClientReal) {
    real.faulty.releaseStalled(this.drop);
  }
  toString() {
    return `ReleaseStalled(${this.drop ? 'drop' : 'finish'})`;
  }
}

class Tick extends ClientCommand {
  constructor(readonly ms: number) {
    super();
  }
  /** A backoff of a retry_upload call (re-read after a lost answer) may end now. */
  override mayLiftErrors() {
    return true;
  }
  act(real: ClientReal) {
    real.clock.increment(this.ms);
  }
  toString() {
    return `Tick(${this.ms})`;
  }
}

/** The page goes away: its store stops (saving its snapshot), its calls in flight are dropped. */
async function leavePage(real: ClientReal): Promise<void> {
  real.release?.();
  await new Promise((r) => queueMicrotask(() => r(null)));
  real.faulty.releaseStalled(true);
  await real.faulty.quiet();
}

/** The page reloads: the store saved its snapshot; a new store starts from it, without bytes. */
class Reload extends ClientCommand {
  async act(real: ClientReal) {
    await leavePage(real);
    attach(real, newStore(real));
  }
  toString() {
    return 'Reload';
  }
}

/** The common journey's first half, as one step: pick a valid document, then CREATE the draft. */
class DraftWithDocument extends ClientCommand {
  constructor(readonly n: number) {
    super();
  }
  async act(real: ClientReal) {
    await new AddFiles([
      {
        slot: 'document',
        size: 300 + this.n,
        mime: 'application/pdf',
        key: undefined,
        name: `journey-${this.n}.pdf`,
      },
    ]).act(real);
    await new Create(undefined, false, false).act(real);
  }
  toString() {
    return `DraftWithDocument(${this.n})`;
  }
}

/** The user starts another upload (another form): a new store, nothing carried over. */
class NewUpload extends ClientCommand {
  async act(real: ClientReal) {
    await leavePage(real);
    // What the user picked and removed stays theirs: an idempotency key may bring back that upload.
    real.storage.data.clear();
    real.removed.clear();
    real.cancelIntent = false;
    real.discardIntent = false;
    real.requestedKind = null;
    attach(real, newStore(real));
  }
  toString() {
    return 'NewUpload';
  }
}

/** A new page that only knows the entity id (no stored snapshot). */
class RestartById extends ClientCommand {
  async act(real: ClientReal) {
    const entityId = snapshotOf(real).context.entityId;
    if (entityId === null) return;
    await leavePage(real);
    // A page that knows only the id knows nothing of removals the old page had not made yet.
    real.storage.data.clear();
    real.removed.clear();
    real.cancelIntent = false;
    real.discardIntent = false;
    real.requestedKind = null;
    attach(real, newStore(real, entityId));
  }
  toString() {
    return 'RestartById';
  }
}

/** React's `<Activity>` hides the component, then shows it: release, then retain the same store. */
class ReleaseRetain extends ClientCommand {
  async act(real: ClientReal) {
    real.release?.();
    await new Promise((r) => queueMicrotask(() => r(null)));
    real.release = real.store.retain();
    watch(real);
  }
  toString() {
    return 'ReleaseRetain';
  }
}

const fileSpec: fc.Arbitrary<FileSpec> = fc
  .record({
    slot: fc.constantFrom('document' as const, 'photos' as const),
    valid: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'big', 'mime'),
    key: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined, freq: 3 }),
    n: fc.integer({ min: 1, max: 99 }),
  })
  .map(({ slot, valid, key, n }) => ({
    slot,
    size: valid === 'big' ? 20_000 : slot === 'document' ? 300 + n : 100 + n,
    mime: valid === 'mime' ? 'text/plain' : slot === 'document' ? 'application/pdf' : 'image/png',
    key,
    name: `${slot}-${n}-${valid}.${slot === 'document' ? 'pdf' : 'png'}`,
  }));

/** The command mix; an arbitrary listed twice is drawn twice as often (deep states need files and START). */
export function clientCommands(): fc.Arbitrary<fc.AsyncCommand<object, ClientReal>>[] {
  const addFiles = fc.array(fileSpec, { minLength: 1, maxLength: 2 }).map((files) => new AddFiles(files));
  const hold = fc.constantFrom(...RPCS).map((method) => new Hold(method));
  const holdNext = fc.constant(null).map(() => new Hold('*'));
  return [
    addFiles,
    addFiles,
    addFiles,
    hold,
    holdNext,
    holdNext,
    fc.constant(null).map(() => new NewUpload()),
    fc.nat(99).map((n) => new DraftWithDocument(n)),
    fc.nat(99).map((n) => new DraftWithDocument(n)),
    fc.nat(99).map((n) => new DraftWithDocument(n)),
    fc.nat(5).map((pick) => new RemoveFile(pick)),
    fc.nat(5).map((pick) => new RemoveFile(pick)),
    fc
      .record({ key: fc.option(fc.constantFrom('k1', 'k2'), { nil: undefined }), start: fc.boolean() })
      .map(({ key, start }) => new Create(key, false, start)),
    fc.constantFrom('k1', 'k2').map((key) => new Create(key, true, false)),
    fc.constant(null).map(() => new UserEventCommand('START')),
    fc.constant(null).map(() => new UserEventCommand('START')),
    fc
      .constantFrom('START' as const, 'START' as const, 'RETRY' as const, 'FINALIZE' as const)
      .map((type) => new UserEventCommand(type, true)),
    fc.constant(null).map(() => new UserEventCommand('START', true)),
    fc.constant(null).map(() => new UserEventCommand('CANCEL')),
    // A third of this slot discards (either speed): a discard ends the entity, so it stays rare
    // enough for the deep states to be reached as often as before.
    fc.nat(5).map((n) => (n < 4 ? new UserEventCommand('CANCEL') : new UserEventCommand('DISCARD', n === 5))),
    fc.constant(null).map(() => new UserEventCommand('RETRY')),
    fc.constant(null).map(() => new UserEventCommand('FINALIZE')),

    fc.nat(5).map((pick) => new RetryFile(pick)),
    fc
      .constantFrom('sources' as const, 'sources' as const, 'none' as const, 'unknown' as const)
      .map((m) => new Resume(m)),
    fc
      .record({
        method: fc.constantFrom(...RPCS, 'uploadObject' as const),
        when: fc.constantFrom('before' as const, 'after' as const),
      })
      .map(({ method, when }) => new Fault(method, when)),
    fc.constant(null).map(() => new RefuseNextTransfer()),
    fc.boolean().map((on) => new Stall(on)),
    fc.boolean().map((drop) => new ReleaseStalled(drop)),
    fc.boolean().map((drop) => new ReleaseStalled(drop)),
    fc.constantFrom(150, 1_000, 10_000).map((ms) => new Tick(ms)),
    fc.constantFrom(150, 1_000, 10_000).map((ms) => new Tick(ms)),
    fc.constant(null).map(() => new Reload()),
    fc.constant(null).map(() => new RestartById()),
    fc.constant(null).map(() => new ReleaseRetain()),
  ];
}

/**
 * Liveness: faults stop, stalled transfers finish, the clock runs out every backoff; a machine
 * suspended for its bytes gets them back. It must come to rest, and then agree with the database.
 */
async function checkLiveness(real: ClientReal): Promise<string> {
  real.faulty.clearFaults();
  real.faulty.releaseStalled(false);
  const drain = async () => {
    for (let i = 0; i < 40; i++) {
      await settle(real);
      if (!selectIsBusy(snapshotOf(real))) return;
      real.faulty.releaseStalled(false);
      real.clock.increment(60_000);
    }
    fail(`still busy after draining: ${JSON.stringify(snapshotOf(real).value)}`);
  };
  await drain();
  let s = snapshotOf(real);
  if (selectPhase(s) === 'suspended') {
    const sources = Object.fromEntries(
      s.context.files
        .filter((f) => f.status === 'detached' && real.bytes.has(f.key))
        .map((f) => [f.key, real.bytes.get(f.key)!]),
    );
    real.store.send({ type: 'RESUME', sources });
    await drain();
    s = snapshotOf(real);
  }
  await checkInvariants(real);
  const phase = selectPhase(s);
  const resting: UploadPhase[] = [
    'idle',
    'draft',
    'uploading',
    'completed',
    'failed',
    'suspended',
    'discarded',
  ];
  if (!resting.includes(phase)) fail(`rests in ${phase}`);
  if (phase === 'uploading' && s.context.error === null && s.context.options.autoFinalize) {
    fail(
      `rests in uploading with nothing to tell the user: ${JSON.stringify(s.context.files.map((f) => f.status))}`,
    );
  }
  if (phase === 'suspended' && s.context.error === null) fail('suspended without saying why');
  if (s.context.entityId !== null) {
    const { rows } = await real.db.query<{ status: string }>(
      'select status from upload_lifecycle.entities where id = $1',
      [s.context.entityId],
    );
    const status = rows[0]?.status;
    if ((status === 'completed') !== (phase === 'completed')) {
      fail(`at rest the machine is ${phase} and the database ${status}`);
    }
  }
  return phase;
}

export interface ClientRunReport {
  runs: number;
  /** How runs ended (the machine's resting phase). */
  endings: Map<string, number>;
  stats: Map<string, number>;
}

/** Runs the property; throws fast-check's report (seed and path included) on a counterexample. */
export async function assertClientProperty(
  label: string,
  db: SqlClient,
  settings: ClientSettings,
  code: ClientLib = REAL_LIB,
): Promise<ClientRunReport> {
  lib = code;
  const endings = new Map<string, number>();
  const stats = new Map<string, number>();
  let runs = 0;
  console.log(
    `[client property ${label}] seed ${settings.seed}, ${settings.numRuns} runs, ≤ ${settings.maxCommands} commands` +
      ` (replay: npm run test:property:client -- --seed ${settings.seed} --runs ${settings.numRuns})`,
  );
  await fc.assert(
    fc.asyncProperty(
      fc.commands(clientCommands(), { maxCommands: settings.maxCommands, size: 'large' }),
      async (cmds) => {
        runs++;
        await resetForRun(db);
        const faulty = createFaultyBackend(db);
        const base = {
          db,
          faulty,
          clock: new SimulatedClock(),
          storage: memoryStorage(),
          bytes: new Map<string, Uint8Array>(),
          removed: new Set<string>(),
          everAdded: new Set<string>(),
          cancelIntent: false,
          discardIntent: false,
          discarded: new Set<string>(),
          deleteSent: new Set<string>(),
          requestedKind: null,
          violation: null,
          stats,
        };
        const real = base as ClientReal;
        attach(real, newStore(base));
        try {
          await fc.asyncModelRun(() => ({ model: {}, real }), cmds);
          const phase = await checkLiveness(real);
          endings.set(phase, (endings.get(phase) ?? 0) + 1);
          if (process.env.DEBUG_CLIENT) {
            const e = snapshotOf(real).context;
            const why = `${phase}:${e.error?.name ?? 'none'}:${e.files.length}files${e.error?.name === 'Error' ? e.error.message : ''}`;
            endings.set(why, (endings.get(why) ?? 0) + 1);
          }
        } finally {
          real.release?.();
          faulty.releaseStalled(true);
          await new Promise((r) => setImmediate(r));
          await faulty.quiet().catch(() => undefined);
        }
      },
    ),
    {
      seed: settings.seed,
      numRuns: settings.numRuns,
      ...(settings.path !== undefined && { path: settings.path }),
      endOnFailure: true,
    },
  );
  console.log(
    `[client property ${label}] ${runs} runs ended: ${[...endings].map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
  if (process.env.DEBUG_CLIENT)
    console.log(
      [...stats]
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join('\n'),
    );
  return { runs, endings, stats };
}

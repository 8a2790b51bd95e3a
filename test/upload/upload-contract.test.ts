/**
 * Contract: the upload machine and the lifecycle agree. Traversing the upload machine with
 * `xstate/graph` (every event, every RPC answer and failure), every database-status change it can
 * make is a row of LIFECYCLE_TRANSITIONS, and every row is made by some path.
 */
import { describe, expect, it } from 'vitest';
import { getAdjacencyMap } from 'xstate/graph';
import type { AnyEventObject, AnyStateNode } from 'xstate';
import { LIFECYCLE_TRANSITIONS, UPLOAD_STATUSES, type UploadStatus } from '../../src/machines/lifecycle.js';
import { createUploadMachine, type UploadStateMeta } from '../../src/machines/upload.js';
import { UPLOAD_PHASES, USER_EVENT_TYPES } from '../../src/machines/upload-events.js';
import { selectPhase, type UploadSnapshot } from '../../src/machines/upload-selectors.js';
import { networkError, type UploadState } from '../../src/adapters/backend.js';
import { EntityNotFoundError, NotAcceptingError, RequirementsNotMetError } from '../../src/errors.js';
import { createFakeBackend, REQUIREMENTS } from './fake-backend.js';

const machine = createUploadMachine({ backend: createFakeBackend().backend, random: () => 0.5 });

const stateWith = (status: UploadStatus): UploadState => ({
  entityId: 'e1',
  kind: 'report',
  status,
  attempt: 1,
  maxAttempts: 3,
  failureReason: null,
  metadata: {},
  createdAt: '',
  updatedAt: '',
  completedAt: null,
  requirements: REQUIREMENTS,
  // The one file the traversal adds, registered: transfers and finalize become reachable.
  files: [
    {
      fileId: 'file1',
      key: 'f1',
      slot: 'document',
      originalName: 'a.pdf',
      declaredSize: 10,
      declaredMime: 'application/pdf',
      sha256: null,
      bucketId: 'b',
      objectPath: 'p',
      verifiedAt: null,
      objectExists: false,
      objectMatches: false,
    },
  ],
  jobs: [],
});

const INVOKES = [
  'createDraft',
  'startUpload',
  'registerFiles',
  'finalizeUpload',
  'failUpload',
  'retryUpload',
  'getUploadState',
];
const ERRORS = [
  networkError(new Error('reset')),
  new RequirementsNotMetError({ message: 'x' }),
  new NotAcceptingError({ message: 'x' }),
];

function eventsFor(snapshot: UploadSnapshot): AnyEventObject[] {
  const delayed = (snapshot._nodes as AnyStateNode[]).flatMap((node) =>
    node.after.map((t) => ({ type: t.eventType })),
  );

  return [
    { type: 'CREATE', kind: 'report' },
    // One file is enough to reach every state; more would only multiply the same states.
    ...(snapshot.context.files.length === 0
      ? [
          {
            type: 'ADD_FILES',
            files: [{ slot: 'document', body: new Uint8Array(10), name: 'a.pdf', type: 'application/pdf' }],
          },
        ]
      : []),
    { type: 'START' },
    { type: 'CANCEL' },
    { type: 'DISCARD' },
    { type: 'RETRY' },
    { type: 'RETRY_FILE', key: 'f1' },
    { type: 'FINALIZE' },
    { type: 'RESUME' },
    // Bytes live outside the snapshot, shared by the whole traversal: a DISCARD forgets them,
    // and a user re-attaches them as after a reload.
    ...(snapshot.context.files.length > 0 ? [{ type: 'RESUME', sources: { f1: new Uint8Array(10) } }] : []),
    { type: 'TRANSFER.DONE', key: 'f1' },
    { type: 'TRANSFER.ERROR', key: 'f1', error: new NotAcceptingError({ message: 'x' }) },
    ...INVOKES.flatMap((id) => [
      ...UPLOAD_STATUSES.map((status) => ({ type: `xstate.done.actor.${id}`, output: stateWith(status) })),
      ...ERRORS.map((error) => ({ type: `xstate.error.actor.${id}`, error })),
    ]),
    // The watcher while processing: each state it reports, or an end without one (gone).
    ...UPLOAD_STATUSES.map((status) => ({ type: 'WATCH.STATE', output: stateWith(status) })),
    { type: 'WATCH.ERROR', error: new EntityNotFoundError({ message: 'x' }) },
    // delete_upload answers nothing; refused as gone (UL003), completed (UL005) or unanswered.
    { type: 'xstate.done.actor.deleteUpload' },
    ...[...ERRORS, new EntityNotFoundError({ message: 'x' })].map((error) => ({
      type: 'xstate.error.actor.deleteUpload',
      error,
    })),
    ...delayed,
  ];
}

function metaOf(snapshot: UploadSnapshot): UploadStateMeta {
  const meta = snapshot.getMeta() as Record<string, UploadStateMeta>;
  return meta[`upload.${selectPhase(snapshot)}`]!;
}

describe('upload machine ↔ lifecycle contract', () => {
  const adjacency = getAdjacencyMap(machine, {
    events: eventsFor as never,
    serializeState: (s) => {
      const snapshot = s as unknown as UploadSnapshot;
      return JSON.stringify([
        snapshot.value,
        snapshot.context.files.map((f) => f.status),
        snapshot.context.entityId !== null,
        // A deferred DISCARD changes where the next answer leads.
        snapshot.context.discardRequested,
      ]);
    },
    limit: 5000,
  });

  const changes = new Map<string, string>();
  for (const [key, { state, transitions }] of Object.entries(
    adjacency as unknown as Record<
      string,
      { state: unknown; transitions: Record<string, { state: unknown }> }
    >,
  )) {
    const from = metaOf(state as unknown as UploadSnapshot);
    for (const [eventKey, { state: next }] of Object.entries(transitions)) {
      const to = metaOf(next as unknown as UploadSnapshot);
      if (from.observed || to.observed || to.status === null || from.status === to.status) continue;
      changes.set(`${from.status}→${to.status}`, `${key} --${eventKey}-->`);
    }
  }

  it('explores every state of the machine', () => {
    const phases = new Set(
      Object.values(adjacency as unknown as Record<string, { state: unknown }>).map(({ state }) =>
        selectPhase(state as unknown as UploadSnapshot),
      ),
    );
    expect([...phases].sort()).toEqual(Object.keys(machine.root.states).sort());
  });

  it('every database-status change the machine makes is a row of the lifecycle table', () => {
    const allowed = new Set(LIFECYCLE_TRANSITIONS.map((t) => `${t.from}→${t.to}`));
    // create_upload_draft(start_upload => true) is `create` then `begin_upload` in one
    // transaction: the composition of two rows.
    for (const create of LIFECYCLE_TRANSITIONS.filter((t) => t.event === 'create')) {
      for (const begin of LIFECYCLE_TRANSITIONS.filter(
        (t) => t.event === 'begin_upload' && t.from === create.to,
      )) {
        allowed.add(`${create.from}→${begin.to}`);
      }
    }
    const forbidden = [...changes.entries()].filter(([change]) => !allowed.has(change));
    expect(forbidden).toEqual([]);
  });

  it('every row of the lifecycle table is made by some path of the machine', () => {
    // Including the rows into and out of `processing`: finalize answers it, the watcher reports
    // the database's completed or failed.
    const rows = LIFECYCLE_TRANSITIONS.map((t) => `${t.from}→${t.to}`).sort();
    expect([...changes.keys()].filter((change) => rows.includes(change)).sort()).toEqual(rows);
  });

  it('every state answers every user event itself (handle, defer or refuse): none falls through', () => {
    for (const phase of UPLOAD_PHASES) {
      const node = machine.root.states[phase] as AnyStateNode;
      const handled = Object.keys(node.config.on ?? {});
      expect(
        USER_EVENT_TYPES.filter((type) => !handled.includes(type)),
        phase,
      ).toEqual([]);
    }
    expect(Object.keys(machine.root.states).sort()).toEqual([...UPLOAD_PHASES].sort());
  });

  it('declares a database status on every state', () => {
    for (const node of Object.values(machine.root.states) as AnyStateNode[]) {
      const meta = node.meta as UploadStateMeta | undefined;
      expect(meta, node.key).toBeDefined();
      expect(meta!.status === null || UPLOAD_STATUSES.includes(meta!.status), node.key).toBe(true);
    }
  });
});

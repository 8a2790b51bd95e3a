/**
 * The upload machine's user events, and what each state does with each of them. Every state
 * answers every user event in one of three ways — never by dropping it:
 *
 * - **handle**: the event takes effect now;
 * - **defer**: it is recorded and takes effect when the call in flight answers (a file removed
 *   while `start_upload` runs is removed once its row exists; CANCEL while finalizing cancels
 *   unless the upload completed meanwhile);
 * - **refuse**: `error` becomes a {@link NotAcceptingError} (UL005) naming the event and the
 *   state, with what to do instead. Nothing else changes.
 *
 * `USER_EVENT_POLICY` is the table; the machine is built from it (refusals) and checked against
 * it (handlers), and docs/client-guide.md shows it.
 */
import type { ByteSource } from '../core/port.js';
import { NotAcceptingError } from '../errors.js';
import { serializeError, type SerializedUploadError } from '../core/error-data.js';
import type { AddedFile } from './upload-files.js';

/** The events an application sends to the upload machine. */
export type UserEvent =
  /** Creates the draft; with `start: true`, also begins the upload and registers the files (one RPC). */
  | {
      type: 'CREATE';
      kind?: string;
      metadata?: Record<string, unknown>;
      idempotencyKey?: string;
      start?: boolean;
    }
  | { type: 'ADD_FILES'; files: AddedFile[] }
  | { type: 'REMOVE_FILE'; key: string }
  /** In draft: begin and register the files (one RPC). In idle: create, begin and register (one RPC). */
  | { type: 'START' }
  | { type: 'CANCEL' }
  /**
   * Deletes the upload (`delete_upload`): its rows go, its objects are queued for removal.
   * Without an entity yet, forgets the local files. Ends in `discarded`.
   */
  | { type: 'DISCARD' }
  | { type: 'RETRY' }
  | { type: 'RETRY_FILE'; key: string }
  | { type: 'FINALIZE' }
  /** Re-attach bytes by key (after a reload) and, when suspended, read the entity again. */
  | { type: 'RESUME'; sources?: Record<string, ByteSource> };

/** The `type` of a {@link UserEvent}. */
export type UserEventType = UserEvent['type'];

/** Every {@link UserEventType}, in a stable order. */
export const USER_EVENT_TYPES = [
  'CREATE',
  'ADD_FILES',
  'REMOVE_FILE',
  'START',
  'CANCEL',
  'DISCARD',
  'RETRY',
  'RETRY_FILE',
  'FINALIZE',
  'RESUME',
] as const satisfies readonly UserEventType[];

/** What a phase does with a user event: handle it now, defer it until it can, or refuse it. */
export type EventPolicy = 'handle' | 'defer' | 'refuse';

/** The machine's top-level states. */
export const UPLOAD_PHASES = [
  'idle',
  'creating',
  'draft',
  'starting',
  'uploading',
  'finalizing',
  'processing',
  'completed',
  'cancelling',
  'failing',
  'failed',
  'retrying',
  'loading',
  'suspended',
  'discarding',
  'discarded',
] as const;
/** One of {@link UPLOAD_PHASES}: where the upload machine is, for a UI. */
export type UploadPhase = (typeof UPLOAD_PHASES)[number];

const H = 'handle';
const D = 'defer';
const R = 'refuse';

/**
 * What each state does with each user event. ADD_FILES and REMOVE_FILE change the local list
 * wherever the entity can still change; the database follows when the upload runs.
 */
export const USER_EVENT_POLICY: Record<UploadPhase, Record<UserEventType, EventPolicy>> = {
  //           CREATE ADD_FILES REMOVE_FILE START CANCEL DISCARD RETRY RETRY_FILE FINALIZE RESUME
  idle: row(H, H, H, H, R, H, R, R, R, H),
  creating: row(R, H, D, R, D, D, R, R, R, H),
  draft: row(R, H, H, H, R, H, R, R, R, H),
  starting: row(R, D, D, R, D, D, R, R, R, H),
  uploading: row(R, H, H, R, H, H, R, H, H, H),
  finalizing: row(R, R, R, R, D, D, R, R, R, H),
  // The database runs the kind's processors; only it moves the entity on. delete_upload accepts
  // a processing entity (it refuses completed only), fail_upload would too, but a cancel of work
  // the user does not run is not offered: DISCARD deletes the upload.
  processing: row(R, R, R, R, R, H, R, R, R, H),
  completed: row(R, R, R, R, R, R, R, R, R, R),
  cancelling: row(R, H, H, R, R, D, R, R, R, H),
  failing: row(R, H, H, R, R, D, R, R, R, H),
  failed: row(R, H, H, R, R, H, H, R, R, H),
  retrying: row(R, D, D, R, D, D, R, R, R, H),
  loading: row(R, D, D, R, D, D, R, R, R, H),
  suspended: row(R, H, H, R, H, H, R, R, R, H),
  discarding: row(R, R, R, R, R, R, R, R, R, R),
  discarded: row(R, R, R, R, R, R, R, R, R, R),
};

function row(...policies: EventPolicy[]): Record<UserEventType, EventPolicy> {
  return Object.fromEntries(USER_EVENT_TYPES.map((type, i) => [type, policies[i]!])) as Record<
    UserEventType,
    EventPolicy
  >;
}

/** What to do instead, per refused event (the state is named in the message). */
const INSTEAD: Record<UserEventType, string> = {
  CREATE:
    'An upload actor makes one entity: CREATE works in idle only; start a new actor for another entity.',
  ADD_FILES: 'Files can change until finalize is sent; wait for its answer.',
  REMOVE_FILE: 'Files can change until finalize is sent; wait for its answer.',
  START: 'START works in draft (or in idle with a kind); a running upload continues by itself.',
  CANCEL:
    'CANCEL stops a running upload; a draft is not running (DISCARD deletes it), a processing one waits for the database, a failed or completed one is over.',
  DISCARD:
    'DISCARD deletes an upload that is not completed; a completed one is final, a discarded one is gone.',
  RETRY: 'RETRY starts a new attempt of a failed upload.',
  RETRY_FILE: 'RETRY_FILE restarts a file in error while uploading; a failed upload retries with RETRY.',
  FINALIZE: 'FINALIZE works while uploading once every file is uploaded.',
  RESUME: 'A completed or discarded upload has nothing to resume.',
};

/** The typed refusal of `event` in `phase`, as the snapshot holds it. */
export function refusal(type: UserEventType, phase: UploadPhase, why?: string): SerializedUploadError {
  return serializeError(
    new NotAcceptingError({
      message: `${type} is not accepted while ${phase}${why ? `: ${why}` : ''}`,
      hint: INSTEAD[type],
    }),
  );
}

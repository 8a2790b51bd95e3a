/**
 * Typed errors: one class per SQLSTATE of the database contract (DESIGN.md §2), mapped 1:1.
 * Callers branch on `code`, never on message text.
 *
 * @example
 * ```ts
 * try { await backend.finalize(id) } catch (error) {
 *   if (isUploadLifecycleError(error) && error.code === 'UL002') showMissing(error.detail);
 * }
 * ```
 */

export const ERROR_CODES = {
  UL001: 'forbidden_transition',
  UL002: 'requirements_not_met',
  UL003: 'not_found',
  UL004: 'invalid_file',
  UL005: 'not_accepting',
  UL006: 'attempts_exhausted',
} as const;
/** A SQLSTATE of the database contract (`UL001`…`UL006`), or `UL000` for anything else. */
export type UploadErrorCode = keyof typeof ERROR_CODES | 'UL000';

/**
 * What to do next, per code: the message when the database sent none (a PostgREST error body
 * without `message`), and the `hint` when it sent no hint.
 */
export const NEXT_STEPS: Record<UploadErrorCode, string> = {
  UL000: 'Unexpected error; retry, and report it if it persists.',
  UL001: 'The lifecycle does not allow this step now; read the state with get_upload_state.',
  UL002: 'Some requirements are not met; upload the missing files, then call finalize_upload again.',
  UL003: 'Upload not found; check the id (uploads of other users are reported as not found).',
  UL004: 'Invalid input; fix the file or metadata as the message says and send it again.',
  UL005: 'The upload does not accept this operation in its current status; read its state.',
  UL006: 'No upload attempts left; delete this upload and create a new one.',
};

/** What an {@link UploadLifecycleError} is built from: the code, the message and the database's detail and hint. */
export interface UploadErrorInit {
  message: string;
  detail?: string | undefined;
  hint?: string | undefined;
  /** The SQLSTATE (or PostgREST code) the error came with, when it came from the database. */
  sqlstate?: string | undefined;
  cause?: unknown;
}

/** Base class of every error this package raises on purpose. */
export class UploadLifecycleError extends Error {
  override name = 'UploadLifecycleError';
  readonly code: UploadErrorCode = 'UL000';
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  /**
   * The original SQLSTATE or PostgREST code, kept for errors outside `UL001`…`UL006` (e.g.
   * `42501` permission denied, `PGRST202` unknown function), whose `code` is `UL000`.
   */
  readonly sqlstate: string | undefined;

  constructor(init: UploadErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.detail = init.detail;
    this.hint = init.hint;
    this.sqlstate = init.sqlstate;
  }

  toJSON() {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      detail: this.detail,
      hint: this.hint,
      sqlstate: this.sqlstate,
    };
  }
}

/** UL001: the lifecycle does not allow this status change. */
export class ForbiddenTransitionError extends UploadLifecycleError {
  override name = 'ForbiddenTransitionError';
  override readonly code = 'UL001' as const;
}
/** UL002: finalize found requirements unmet; `detail` lists what is missing or wrong. */
export class RequirementsNotMetError extends UploadLifecycleError {
  override name = 'RequirementsNotMetError';
  override readonly code = 'UL002' as const;
  /** One problem per line of DETAIL. */
  get problems(): string[] {
    return (this.detail ?? '').split('\n').filter(Boolean);
  }
}
/** UL003: no such entity — or one the caller may not see (existence is never leaked). */
export class EntityNotFoundError extends UploadLifecycleError {
  override name = 'EntityNotFoundError';
  override readonly code = 'UL003' as const;
}
/** UL004: invalid file or input (size, type, name, count, metadata, quota). */
export class InvalidFileError extends UploadLifecycleError {
  override name = 'InvalidFileError';
  override readonly code = 'UL004' as const;
}
/** UL005: the entity is not accepting this operation in its current status. */
export class NotAcceptingError extends UploadLifecycleError {
  override name = 'NotAcceptingError';
  override readonly code = 'UL005' as const;
}
/** UL006: no upload attempts left; create a new entity. */
export class AttemptsExhaustedError extends UploadLifecycleError {
  override name = 'AttemptsExhaustedError';
  override readonly code = 'UL006' as const;
}

/**
 * UL004: `create_upload_draft` named a kind that is not in `upload_lifecycle.entity_kinds` (a
 * typo, or the kind's migration is not applied). Still `UL004` — bad input, fixed by sending
 * another kind — so code that branches on `UL004` or {@link isInvalidFileError} keeps working;
 * `isUnknownKindError` tells it apart.
 */
export class UnknownKindError extends InvalidFileError {
  override name = 'UnknownKindError';
}

/**
 * The signed-in user is not a row of `auth.users`, so no upload can be theirs (the embedded
 * backend's `userId` names a user that was never inserted). Not a lifecycle error: `code` is
 * `UL000` and `sqlstate` the foreign-key violation `23503` it replaces.
 */
export class UnknownUserError extends UploadLifecycleError {
  override name = 'UnknownUserError';
}

/**
 * A file's bytes are not in this upload actor (the page was reloaded): RESUME with
 * `sources: { [key]: file }` gives them back. Its `code` is UL004, like every bad-input error.
 */
export class MissingSourceError extends InvalidFileError {
  override name = 'MissingSourceError';
}

/**
 * An answer of the backend that does not have the documented shape (a field missing or of
 * another type): the client and the database are of different versions. Never retried.
 */
export class MalformedAnswerError extends UploadLifecycleError {
  override name = 'MalformedAnswerError';
}

/**
 * The database failed the entity while processing it (a required processor's job failed or died):
 * `message` carries the database's `failure_reason`, which names the file and the processor.
 * Not a refusal of a call, so its `code` is `UL000`; RETRY starts a new attempt (attempts permitting).
 */
export class ProcessingFailedError extends UploadLifecycleError {
  override name = 'ProcessingFailedError';
}

const CLASSES = {
  UL001: ForbiddenTransitionError,
  UL002: RequirementsNotMetError,
  UL003: EntityNotFoundError,
  UL004: InvalidFileError,
  UL005: NotAcceptingError,
  UL006: AttemptsExhaustedError,
} as const;

/** The error class of each code. */
export type UploadErrorOf<C extends UploadErrorCode> = C extends keyof typeof CLASSES
  ? InstanceType<(typeof CLASSES)[C]>
  : UploadLifecycleError;

/** True for any error of this package (each carries a stable `code`). */
export function isUploadLifecycleError(error: unknown): error is UploadLifecycleError {
  return error instanceof UploadLifecycleError;
}

/**
 * Type guard by code: `hasUploadErrorCode(error, 'UL002')` narrows to {@link RequirementsNotMetError}.
 *
 * @example
 * ```ts
 * if (hasUploadErrorCode(error, 'UL002')) console.log(error.problems);
 * ```
 */
export function hasUploadErrorCode<C extends UploadErrorCode>(
  error: unknown,
  code: C,
): error is UploadErrorOf<C> {
  return error instanceof UploadLifecycleError && error.code === code;
}

/** True for `UL001`: the lifecycle does not allow this status change. */
export const isForbiddenTransitionError = (error: unknown): error is ForbiddenTransitionError =>
  error instanceof ForbiddenTransitionError;
/** True for `UL002`: finalize found missing or mismatched files (listed in `detail`). */
export const isRequirementsNotMetError = (error: unknown): error is RequirementsNotMetError =>
  error instanceof RequirementsNotMetError;
/** True for `UL003`: no such entity, or not the caller's. */
export const isEntityNotFoundError = (error: unknown): error is EntityNotFoundError =>
  error instanceof EntityNotFoundError;
/** True for `UL004`: a file (or other input) the slot does not accept. */
export const isInvalidFileError = (error: unknown): error is InvalidFileError =>
  error instanceof InvalidFileError;
/** True for a `UL004` that names an unknown kind. */
export const isUnknownKindError = (error: unknown): error is UnknownKindError =>
  error instanceof UnknownKindError;
/** True when the signed-in user does not exist in `auth.users`. */
export const isUnknownUserError = (error: unknown): error is UnknownUserError =>
  error instanceof UnknownUserError;
/** True for `UL005`: the entity does not accept this operation in its status. */
export const isNotAcceptingError = (error: unknown): error is NotAcceptingError =>
  error instanceof NotAcceptingError;
/** True for `UL006`: no upload attempts left. */
export const isAttemptsExhaustedError = (error: unknown): error is AttemptsExhaustedError =>
  error instanceof AttemptsExhaustedError;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/**
 * Maps a Postgres error (PGlite, `pg`: `{ code, message, detail, hint }`), a PostgREST error
 * object (`{ code, message, details, hint }` from supabase-js, `details`/`hint` possibly null) or a
 * supabase-js result `{ data, error }` to its typed error. SQLSTATE `UL001`…`UL006` (any case)
 * give their class; anything else comes back as `UploadLifecycleError` with code `UL000` and the
 * original code in `sqlstate`. The original is kept as `cause`; a missing message or hint is
 * filled with what to do next ({@link NEXT_STEPS}).
 *
 * @example
 * ```ts
 * const { data, error } = await supabase.rpc('finalize_upload', { entity_id });
 * if (error) throw toUploadLifecycleError(error);
 * ```
 */
export function toUploadLifecycleError(error: unknown): UploadLifecycleError {
  if (error instanceof UploadLifecycleError) return error;
  let e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  // A supabase-js result: { data: null, error: { code, … } }.
  if (!('code' in e) && 'error' in e && typeof e.error === 'object' && e.error !== null) {
    e = e.error as Record<string, unknown>;
  }
  const raw = text(e.code);
  const code = raw?.toUpperCase();
  const Class = code && code in CLASSES ? CLASSES[code as keyof typeof CLASSES] : undefined;
  const next = NEXT_STEPS[Class ? (code as UploadErrorCode) : 'UL000'];
  const init: UploadErrorInit = {
    message: text(e.message) ?? (error instanceof Error ? text(error.message) : text(error)) ?? next,
    detail: text(e.detail) ?? text(e.details),
    hint: text(e.hint) ?? (Class ? next : undefined),
    sqlstate: raw,
    cause: error,
  };
  // The one UL004 with a class of its own: create_upload_draft's `unknown kind %s` (its SQL fixes
  // the wording; the code alone cannot tell it from a bad file).
  if (Class === InvalidFileError && /^unknown kind /.test(init.message)) return new UnknownKindError(init);
  return Class ? new Class(init) : new UploadLifecycleError(init);
}

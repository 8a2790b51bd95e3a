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
export type UploadErrorCode = keyof typeof ERROR_CODES | 'UL000';

export interface UploadErrorInit {
  message: string;
  detail?: string | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

/** Base class of every error this package raises on purpose. */
export class UploadLifecycleError extends Error {
  override name = 'UploadLifecycleError';
  readonly code: UploadErrorCode = 'UL000';
  readonly detail: string | undefined;
  readonly hint: string | undefined;

  constructor(init: UploadErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.detail = init.detail;
    this.hint = init.hint;
  }

  toJSON() {
    return { name: this.name, code: this.code, message: this.message, detail: this.detail, hint: this.hint };
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

const CLASSES = {
  UL001: ForbiddenTransitionError,
  UL002: RequirementsNotMetError,
  UL003: EntityNotFoundError,
  UL004: InvalidFileError,
  UL005: NotAcceptingError,
  UL006: AttemptsExhaustedError,
} as const;

export function isUploadLifecycleError(error: unknown): error is UploadLifecycleError {
  return error instanceof UploadLifecycleError;
}

/**
 * Maps a Postgres error (PGlite, `pg`) or a PostgREST error object (`{ code, message, details,
 * hint }` from supabase-js) to its typed error. Errors with another code come back as
 * `UploadLifecycleError` with code `UL000`, keeping the original as `cause`.
 */
export function toUploadLifecycleError(error: unknown): UploadLifecycleError {
  if (error instanceof UploadLifecycleError) return error;
  const e = (error ?? {}) as {
    code?: unknown;
    message?: unknown;
    detail?: unknown;
    details?: unknown;
    hint?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const init: UploadErrorInit = {
    message: typeof e.message === 'string' ? e.message : String(error),
    detail: typeof e.detail === 'string' ? e.detail : typeof e.details === 'string' ? e.details : undefined,
    hint: typeof e.hint === 'string' ? e.hint : undefined,
    cause: error,
  };
  const Class = code && code in CLASSES ? CLASSES[code as keyof typeof CLASSES] : undefined;
  return Class ? new Class(init) : new UploadLifecycleError(init);
}

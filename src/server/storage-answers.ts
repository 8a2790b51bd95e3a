/**
 * How Supabase's storage server renders a failure (src/http/error-handler.ts and the tus
 * lifecycle of supabase/storage, read, not copied): `{ statusCode, code, error, message }`, where
 * `error` is the legacy name; HTTP 400 for every refusal on the standard endpoints (500 for server
 * errors) and the real status with the message as text on tus.
 */
import { StorageWriteError } from '../db/storage-write.js';

/** A refusal as tus renders it: the real status, the message as text. */
export type TusRefusal = { status_code: number; body: string };

/** Storage's rendered error: `{ statusCode, code, error, message }` and the HTTP status it goes with. */
export interface StorageAnswer {
  status: number;
  body: { statusCode: string; code: string; error: string; message: string };
}

const LEGACY_ERROR: Record<string, string> = {
  AccessDenied: 'Unauthorized',
  Duplicate: 'Duplicate',
  EntityTooLarge: 'Payload too large',
  InvalidMimeType: 'invalid_mime_type',
  NoSuchBucket: 'Bucket not found',
};

/**
 * Any failure of a storage operation as the real server renders it: a StorageWriteError as its
 * code, a database error as `DBError.fromDBError` does (`42501` → 403, `23505` → 409, anything else
 * HTTP 500 `DatabaseError` with `database error, code: <SQLSTATE>`).
 */
export function answerOf(error: unknown): StorageAnswer {
  let status: number;
  let code: string;
  let message: string;
  if (error instanceof StorageWriteError) {
    ({ status, code, message } = error);
    if (code === 'Duplicate') code = 'ResourceAlreadyExists';
  } else {
    const sqlstate = (error as { code?: unknown } | null)?.code;
    if (typeof sqlstate !== 'string') throw error;
    if (sqlstate === '42501')
      return answerOf(
        new StorageWriteError(403, 'AccessDenied', 'new row violates row-level security policy'),
      );
    if (sqlstate === '23505')
      return answerOf(new StorageWriteError(409, 'Duplicate', 'The resource already exists'));
    [status, code, message] = [500, 'DatabaseError', `database error, code: ${sqlstate}`];
  }
  const legacy = LEGACY_ERROR[code === 'ResourceAlreadyExists' ? 'Duplicate' : code];
  return { status, body: { statusCode: String(status), code, error: legacy ?? code, message } };
}

/** What the standard endpoints send: HTTP 400 for every refusal, 500 for server errors. */
export const standardStatus = (answer: StorageAnswer) => (answer.status >= 500 ? answer.status : 400);
export const tusRefusal = (answer: StorageAnswer): TusRefusal => ({
  status_code: answer.status,
  body: answer.body.message,
});

/** Storage's answer to a bad bearer (its auth hook runs before any route, tus included). */
export class InvalidJwt extends Error {
  readonly answer: StorageAnswer;
  constructor(status: number, message: string) {
    super(message);
    this.answer = {
      status,
      body: { statusCode: String(status), code: 'InvalidJWT', error: 'InvalidJWT', message },
    };
  }
}

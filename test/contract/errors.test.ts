import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUser, resetDb, user, type TestDb } from '../support/db.js';
import { defineKind } from '../support/fixtures.js';
import { entityAt } from '../support/lifecycle-paths.js';
import {
  AttemptsExhaustedError,
  EntityNotFoundError,
  ERROR_CODES,
  ForbiddenTransitionError,
  InvalidFileError,
  NEXT_STEPS,
  NotAcceptingError,
  RequirementsNotMetError,
  UploadLifecycleError,
  hasUploadErrorCode,
  isAttemptsExhaustedError,
  isEntityNotFoundError,
  isForbiddenTransitionError,
  isInvalidFileError,
  isNotAcceptingError,
  isRequirementsNotMetError,
  isUploadLifecycleError,
  toUploadLifecycleError,
} from '../../src/errors.js';
import { PDF, rejection, rpc, createContractDb } from './support.js';

const classes = [
  ['UL001', ForbiddenTransitionError, isForbiddenTransitionError],
  ['UL002', RequirementsNotMetError, isRequirementsNotMetError],
  ['UL003', EntityNotFoundError, isEntityNotFoundError],
  ['UL004', InvalidFileError, isInvalidFileError],
  ['UL005', NotAcceptingError, isNotAcceptingError],
  ['UL006', AttemptsExhaustedError, isAttemptsExhaustedError],
] as const;

describe('the SQLSTATE → class mapping', () => {
  it('covers every code of the contract exactly once', () => {
    expect(classes.map(([code]) => code)).toEqual(Object.keys(ERROR_CODES));
  });

  it.each(classes)(
    '%s from a PostgREST error object becomes its class with code, detail and hint',
    (code, Class, guard) => {
      const postgrest = {
        code,
        message: 'upload x cannot be completed',
        details: 'slot a: 0 file(s)',
        hint: 'Upload it.',
      };
      const error = toUploadLifecycleError(postgrest);
      expect(error).toBeInstanceOf(Class);
      expect(error).toBeInstanceOf(Error);
      expect(guard(error)).toBe(true);
      expect(hasUploadErrorCode(error, code)).toBe(true);
      expect(error.toJSON()).toEqual({
        name: Class.name,
        code,
        message: 'upload x cannot be completed',
        detail: 'slot a: 0 file(s)',
        hint: 'Upload it.',
        sqlstate: code,
      });
      expect(error.cause).toBe(postgrest);
      for (const [, , other] of classes) if (other !== guard) expect(other(error)).toBe(false);
    },
  );

  it('PostgREST nulls (details: null, hint: null) become undefined, and a missing hint says what to do next', () => {
    const error = toUploadLifecycleError({
      code: 'UL003',
      message: 'upload 1 not found',
      details: null,
      hint: null,
    });
    expect(error.detail).toBeUndefined();
    expect(error.hint).toBe(NEXT_STEPS.UL003);
  });

  it('a supabase-js result { data, error } is unwrapped', () => {
    const error = toUploadLifecycleError({
      data: null,
      error: { code: 'UL006', message: 'no attempts left' },
    });
    expect(error).toBeInstanceOf(AttemptsExhaustedError);
  });

  it('another code keeps its SQLSTATE as sqlstate and is UL000', () => {
    const error = toUploadLifecycleError({
      code: '42501',
      message: 'permission denied for function finalize_upload',
    });
    expect(error.constructor).toBe(UploadLifecycleError);
    expect(error.code).toBe('UL000');
    expect(error.sqlstate).toBe('42501');
    expect(error.message).toBe('permission denied for function finalize_upload');
  });

  it('anything else (a string, undefined, a plain Error) still gives an UploadLifecycleError with a message', () => {
    expect(toUploadLifecycleError('boom').message).toBe('boom');
    expect(toUploadLifecycleError(undefined).message).toBe(NEXT_STEPS.UL000);
    expect(toUploadLifecycleError(new TypeError('fetch failed')).message).toBe('fetch failed');
    expect(isUploadLifecycleError(toUploadLifecycleError(null))).toBe(true);
  });

  it('an UploadLifecycleError passes through unchanged', () => {
    const original = new InvalidFileError({ message: 'too big' });
    expect(toUploadLifecycleError(original)).toBe(original);
  });

  it('RequirementsNotMetError lists one problem per DETAIL line', () => {
    const error = toUploadLifecycleError({ code: 'UL002', message: 'm', details: 'a\nb\n' });
    expect(hasUploadErrorCode(error, 'UL002') && error.problems).toEqual(['a', 'b']);
  });
});

describe('errors raised by the database (PGlite) map to their class', () => {
  let db: TestDb;
  let alice: string;
  let kind: string;
  beforeAll(async () => {
    db = await createContractDb();
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await resetDb(db);
    alice = await createUser(db);
    ({ kind } = await defineKind(db));
  });

  it('UL001, UL002, UL003, UL004, UL005 and UL006 from real RPC calls', async () => {
    const draft = await entityAt(db, kind, alice, 'draft');
    const uploading = await entityAt(db, kind, alice, 'uploading');
    const completed = await entityAt(db, kind, alice, 'completed');
    const failed = await entityAt(db, kind, alice, 'failed');
    const call = (fn: string, args: Record<string, unknown>) =>
      rejection(rpc(db, user(alice), fn, args)).then(toUploadLifecycleError);

    const cases: [UploadLifecycleError, typeof UploadLifecycleError][] = [
      [await call('finalize_upload', { entity_id: draft }), ForbiddenTransitionError],
      [await call('finalize_upload', { entity_id: uploading }), RequirementsNotMetError],
      [await call('get_upload_state', { entity_id: crypto.randomUUID() }), EntityNotFoundError],
      [await call('register_upload_file', { entity_id: uploading, ...PDF, size: 0 }), InvalidFileError],
      [await call('delete_upload', { entity_id: completed }), NotAcceptingError],
    ];
    for (let i = 0; i < 2; i++) {
      await rpc(db, user(alice), 'retry_upload', { entity_id: failed });
      await rpc(db, user(alice), 'fail_upload', { entity_id: failed });
    }
    cases.push([await call('retry_upload', { entity_id: failed }), AttemptsExhaustedError]);
    for (const [error, Class] of cases) {
      expect(error).toBeInstanceOf(Class);
      expect(error.message.length).toBeGreaterThan(0);
      expect(error.hint, error.message).toBeTruthy();
    }
    const unmet = cases[1]![0] as RequirementsNotMetError;
    expect(unmet.problems).toEqual(['slot document: 0 file(s), at least 1 required']);
  });
});

/**
 * tus-js-client failures → typed errors, against tus-js-client's documented `DetailedError`
 * (originalRequest / originalResponse / causingError). A 404 on an upload URL is a lost upload
 * (retryable, start again), not a missing bucket.
 */
import * as tus from 'tus-js-client';
import { describe, expect, it } from 'vitest';
import { tusError } from '../../src/adapters/supabase.js';
import { classifyFailure } from '../../src/machines/upload-retry.js';

function failure(method: string, status: number | null, body = ''): tus.DetailedError {
  const req = {
    getMethod: () => method,
    getURL: () => 'http://127.0.0.1/storage/v1/upload/resumable/abc',
    getHeader: () => undefined,
  } as unknown as tus.HttpRequest;
  const res =
    status === null
      ? null
      : ({
          getStatus: () => status,
          getBody: () => body,
          getHeader: () => undefined,
        } as unknown as tus.HttpResponse);
  const DetailedError = (tus as unknown as { DetailedError: new (...a: unknown[]) => tus.DetailedError })
    .DetailedError;
  return new DetailedError('tus: failed', status === null ? new Error('socket hang up') : null, req, res);
}

function mapped(method: string, status: number | null, body?: string) {
  let forgotten = false;
  const error = tusError(failure(method, status, body), () => (forgotten = true));
  return { error, forgotten, storageCode: (error as { storageCode?: string }).storageCode };
}

describe('tusError', () => {
  it.each(['PATCH', 'HEAD'])(
    'a 404 on %s of an upload URL is NoSuchUpload: retryable, URL forgotten',
    (method) => {
      const { error, forgotten, storageCode } = mapped(
        method,
        404,
        '{"statusCode":"404","error":"not_found","message":"Upload not found"}',
      );
      expect(storageCode).toBe('NoSuchUpload');
      expect(forgotten).toBe(true);
      expect(classifyFailure(error)).toBe('retry');
      expect(String((error as Error).message)).toMatch(/Upload not found/);
    },
  );

  it('a 410 Gone is NoSuchUpload whatever the method', () => {
    expect(mapped('PATCH', 410).storageCode).toBe('NoSuchUpload');
  });

  it('a 404 on the creation POST is a missing bucket: not retried, nothing forgotten', () => {
    const { error, forgotten, storageCode } = mapped(
      'POST',
      404,
      '{"statusCode":"404","error":"Bucket not found","message":"Bucket not found"}',
    );
    expect(storageCode).toBe('NoSuchBucket');
    expect(forgotten).toBe(false);
    expect(classifyFailure(error)).toBe('fatal');
  });

  it('no response at all is a network error (retryable)', () => {
    const { error } = mapped('PATCH', null);
    expect(classifyFailure(error)).toBe('retry');
  });

  it('a 403 stays a policy refusal', () => {
    expect(
      mapped(
        'POST',
        403,
        '{"statusCode":"403","error":"Unauthorized","message":"new row violates row-level security policy"}',
      ).storageCode,
    ).toBe('AccessDenied');
  });

  it('a 409 on PATCH is an offset conflict (retryable, URL kept); on the creation POST an existing object', () => {
    const patch = mapped('PATCH', 409, 'Upload-Offset conflict');
    expect([patch.storageCode, patch.forgotten, classifyFailure(patch.error)]).toEqual([
      'OffsetConflict',
      false,
      'retry',
    ]);
    const post = mapped('POST', 409, 'The resource already exists');
    expect([post.storageCode, classifyFailure(post.error)]).toEqual(['Duplicate', 'exists']);
  });
});

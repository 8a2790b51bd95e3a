/**
 * The pure pieces around the upload machine: reconciling with get_upload_state, persisting for a
 * reload, and reading Storage's error payloads.
 */
import { describe, expect, it } from 'vitest';
import { storageError, type UploadState, type UploadStateFile } from '../../src/adapters/backend.js';
import { parseUploadState } from '../../src/adapters/upload-state.js';
import { entriesFor, reconcileFiles } from '../../src/machines/upload-files.js';
import { persistUpload } from '../../src/machines/upload-selectors.js';
import { classifyFailure } from '../../src/machines/upload-retry.js';
import { UploadLifecycleError, toUploadLifecycleError } from '../../src/errors.js';

const row = (over: Partial<UploadStateFile>): UploadStateFile => ({
  fileId: 'file-1',
  slot: 'document',
  originalName: 'a.pdf',
  declaredSize: 10,
  declaredMime: 'application/pdf',
  sha256: null,
  bucketId: 'b',
  objectPath: 'o/e/file-1',
  verifiedAt: null,
  objectExists: false,
  objectMatches: false,
  ...over,
});
const stateWith = (files: UploadStateFile[]): UploadState => ({
  entityId: 'e',
  kind: 'report',
  status: 'uploading',
  attempt: 1,
  maxAttempts: 3,
  failureReason: null,
  metadata: {},
  createdAt: '',
  updatedAt: '',
  completedAt: null,
  requirements: [],
  files,
});

describe('reconcileFiles', () => {
  const local = entriesFor(
    [
      { slot: 'document', body: new Uint8Array(10), name: 'a.pdf', type: 'application/pdf' },
      { slot: 'photos', body: new Uint8Array(5), name: 'p.png', type: 'image/png' },
    ],
    0,
  );

  it('marks a file whose object is stored and matches as uploaded, so it is not sent again', () => {
    const files = reconcileFiles(
      [{ ...local[0]!, fileId: 'file-1' }],
      stateWith([row({ objectExists: true, objectMatches: true })]),
    );
    expect(files[0]).toMatchObject({ status: 'uploaded', bytesSent: 10, objectPath: 'o/e/file-1' });
  });

  it('sends again a file whose object is missing or does not match', () => {
    const files = reconcileFiles(
      [{ ...local[0]!, fileId: 'file-1', status: 'uploaded' }],
      stateWith([row({ objectExists: true, objectMatches: false })]),
    );
    expect(files[0]).toMatchObject({ status: 'pending', bytesSent: 0, fileId: 'file-1' });
  });

  it('adopts the registration whose answer was lost (same slot, name, size, type) instead of registering twice', () => {
    const files = reconcileFiles(local, stateWith([row({ fileId: 'file-9', objectPath: 'o/e/file-9' })]));
    expect(files.map((f) => [f.key, f.fileId, f.status])).toEqual([
      ['f1', 'file-9', 'pending'],
      ['f2', null, 'pending'],
    ]);
  });

  it('shows database files it did not know about', () => {
    const files = reconcileFiles([], stateWith([row({ objectExists: true, objectMatches: true })]));
    expect(files).toEqual([expect.objectContaining({ key: 'db-file-1', status: 'uploaded' })]);
  });
});

describe('persistUpload', () => {
  const snapshot = (value: string, entityId: string | null, status = 'active') => ({
    status,
    value,
    children: { 'file:f1': { src: 'fileUpload', snapshot: {} } },
    context: {
      entityId,
      files: [
        { key: 'f1', status: 'uploading' },
        { key: 'f2', status: 'uploaded' },
      ],
    },
  });

  it('comes back suspended, without children, with in-flight files pending', () => {
    const persisted = persistUpload(snapshot('uploading', 'e1') as never);
    expect(persisted.value).toBe('suspended');
    expect(persisted.children).toEqual({});
    expect(persisted.context.files.map((f) => f.status)).toEqual(['pending', 'uploaded']);
  });

  it('comes back idle when no entity exists yet, and unchanged when done', () => {
    expect(persistUpload(snapshot('creating', null) as never).value).toBe('idle');
    expect(persistUpload(snapshot('completed', 'e1', 'done') as never).value).toBe('completed');
  });
});

describe('storageError', () => {
  it('reads a policy refusal from the body even when the HTTP status is 400', () => {
    const e = storageError(400, {
      statusCode: '403',
      error: 'Unauthorized',
      code: 'AccessDenied',
      message: 'new row violates row-level security policy',
    });
    expect([e.status, e.storageCode, e.retryable]).toEqual([400, 'AccessDenied', false]);
    expect(classifyFailure(e)).toBe('fatal');
  });

  it('treats 409 as an object that exists, 5xx as retryable, 413/415 as invalid files', () => {
    expect(classifyFailure(storageError(409, { statusCode: '409', error: 'Duplicate' }))).toBe('exists');
    expect(classifyFailure(storageError(503, 'upstream unavailable'))).toBe('retry');
    expect(storageError(413, {}).storageCode).toBe('EntityTooLarge');
    expect(storageError(415, {}).storageCode).toBe('InvalidMimeType');
  });
});

describe('classifyFailure', () => {
  it('retries network trouble and connection-class SQLSTATEs, never other database errors', () => {
    expect(classifyFailure(new TypeError('fetch failed'))).toBe('retry');
    expect(classifyFailure(toUploadLifecycleError({ code: '08006', message: 'connection failure' }))).toBe(
      'retry',
    );
    expect(classifyFailure(toUploadLifecycleError({ code: '42501', message: 'permission denied' }))).toBe(
      'fatal',
    );
    expect(classifyFailure(toUploadLifecycleError({ code: 'UL004', message: 'bad file' }))).toBe('fatal');
    expect(classifyFailure(new UploadLifecycleError({ message: 'unknown' }))).toBe('retry');
  });
});

describe('parseUploadState', () => {
  it('reads the snake_case RPC answer into the camelCase port type and names a drifted field', () => {
    const state = parseUploadState({
      entity_id: 'e',
      kind: 'report',
      status: 'draft',
      attempt: 0,
      max_attempts: 3,
      requirements: [
        {
          slot: 'document',
          min_count: 1,
          max_count: 1,
          max_bytes: '10000',
          allowed_mime_types: ['application/pdf'],
        },
      ],
      files: [],
    });
    expect(state.requirements[0]).toEqual({
      slot: 'document',
      minCount: 1,
      maxCount: 1,
      maxBytes: 10000,
      allowedMimeTypes: ['application/pdf'],
    });
    expect(() => parseUploadState({ entity_id: 'e', kind: 'report', status: 'archived' })).toThrow(/status/);
  });
});

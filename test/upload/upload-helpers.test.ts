/**
 * The pure pieces around the upload machine: reconciling with get_upload_state, persisting for a
 * reload, and reading Storage's error payloads.
 */
import { describe, expect, it } from 'vitest';
import { storageError, type UploadState, type UploadStateFile } from '../../src/adapters/backend.js';
import { parseUploadState } from '../../src/adapters/upload-state.js';
import { applyState, entriesFor } from '../../src/machines/upload-files.js';
import { persistUpload } from '../../src/machines/upload-selectors.js';
import { classifyFailure } from '../../src/machines/upload-retry.js';
import { UploadLifecycleError, toUploadLifecycleError } from '../../src/errors.js';

const row = (over: Partial<UploadStateFile>): UploadStateFile => ({
  fileId: 'file-1',
  key: 'file-1-key',
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
  jobs: [],
});

describe('applyState: the database word merged into the local files, by key', () => {
  const local = entriesFor(
    [
      { slot: 'document', body: new Uint8Array(10), name: 'a.pdf', type: 'application/pdf' },
      { slot: 'photos', body: new Uint8Array(5), name: 'p.png', type: 'image/png' },
    ],
    0,
  );
  const here = () => true;

  it('marks a file whose object is stored and matches as uploaded, so it is not sent again', () => {
    const { files } = applyState(
      [{ ...local[0]!, fileId: 'file-1' }],
      [],
      stateWith([row({ key: 'f1', objectExists: true, objectMatches: true })]),
      here,
    );
    expect(files[0]).toMatchObject({ status: 'uploaded', bytesSent: 10, objectPath: 'o/e/file-1' });
  });

  it('sends again (with upsert) a file whose object is missing or does not match; detached when its bytes are not here', () => {
    const entry = { ...local[0]!, fileId: 'file-1', status: 'uploaded' as const };
    const state = stateWith([row({ key: 'f1', objectExists: true, objectMatches: false })]);
    expect(applyState([entry], [], state, here).files[0]).toMatchObject({
      status: 'queued',
      bytesSent: 0,
      replace: true,
    });
    expect(applyState([entry], [], state, () => false).files[0]).toMatchObject({ status: 'detached' });
  });

  it('adopts the registration whose answer was lost by its key, never by a look-alike', () => {
    const registering = local.map((f) => ({ ...f, status: 'registering' as const }));
    const { files } = applyState(
      registering,
      [],
      stateWith([row({ key: 'f1', fileId: 'file-9', objectPath: 'o/e/file-9' })]),
      here,
    );
    expect(files.map((f) => [f.key, f.fileId, f.status])).toEqual([
      ['f1', 'file-9', 'queued'],
      ['f2', null, 'pending'],
    ]);
  });

  it('lists database files it did not know about under their keys; a removed one becomes a removal', () => {
    const state = stateWith([
      row({ objectExists: true, objectMatches: true }),
      row({ key: 'gone', fileId: 'file-2', objectPath: 'o/e/file-2' }),
    ]);
    const { files, removals } = applyState([], [{ key: 'gone', fileId: null }], state, here);
    expect(files).toEqual([expect.objectContaining({ key: 'file-1-key', status: 'uploaded' })]);
    expect(removals).toEqual([{ key: 'gone', fileId: 'file-2' }]);
    expect(applyState([], [{ key: 'gone', fileId: 'file-2' }], stateWith([]), here).removals).toEqual([]);
  });
});

describe('persistUpload', () => {
  const snapshot = (value: string, entityId: string | null, status = 'active') => ({
    status,
    value,
    children: { 'transfer:f1': { src: 'transfer', snapshot: {} } },
    context: {
      entityId,
      files: [
        { key: 'f1', status: 'uploading' },
        { key: 'f2', status: 'uploaded' },
      ],
    },
  });

  it('comes back suspended, without children, with in-flight files detached (their bytes are gone)', () => {
    const persisted = persistUpload(snapshot('uploading', 'e1') as never);
    expect(persisted.value).toBe('suspended');
    expect(persisted.children).toEqual({});
    expect(persisted.context.files.map((f) => f.status)).toEqual(['detached', 'uploaded']);
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

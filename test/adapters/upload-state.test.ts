import { describe, expect, it } from 'vitest';
import { parseRegisteredFile, parseUploadState } from '../../src/adapters/upload-state.js';
import { classifyFailure } from '../../src/machines/upload-retry.js';

const answer = {
  entity_id: 'e1',
  kind: 'report',
  status: 'uploading',
  attempt: '1',
  max_attempts: 3,
  requirements: [
    { slot: 'document', min_count: 1, max_count: 1, max_bytes: '10', allowed_mime_types: ['a/b'] },
  ],
  files: [
    {
      file_id: 'f1',
      slot: 'document',
      original_name: 'a.pdf',
      declared_size: '10',
      declared_mime: 'a/b',
      bucket_id: 'b',
      object_path: 'o/e1/f1',
      object_exists: true,
    },
  ],
};

describe('the RPC answers are parsed, not trusted', () => {
  it('parses the processing jobs of the current attempt, with their artifacts; none when absent', () => {
    const state = parseUploadState({
      ...answer,
      status: 'processing',
      jobs: [
        {
          job_id: 'j1',
          file_id: 'f1',
          processor: 'thumbnail',
          required: false,
          status: 'complete',
          attempt: 1,
          max_attempts: '3',
          last_error: null,
          artifacts: [
            {
              variant: 'small',
              bucket_id: 'b',
              object_path: 'o/e1/f1/small',
              size: '120',
              content_type: 'image/webp',
              sha256: null,
            },
          ],
        },
        {
          job_id: 'j2',
          file_id: 'f1',
          processor: 'sha256',
          required: true,
          status: 'dead',
          attempt: 3,
          max_attempts: 3,
          last_error: { message: 'mismatch' },
          artifacts: [],
        },
      ],
    });
    expect(state.status).toBe('processing');
    expect(state.jobs).toEqual([
      {
        jobId: 'j1',
        fileId: 'f1',
        processor: 'thumbnail',
        required: false,
        status: 'complete',
        attempt: 1,
        maxAttempts: 3,
        lastError: null,
        artifacts: [
          {
            variant: 'small',
            bucketId: 'b',
            objectPath: 'o/e1/f1/small',
            size: 120,
            contentType: 'image/webp',
            sha256: null,
          },
        ],
      },
      expect.objectContaining({ jobId: 'j2', status: 'dead', lastError: { message: 'mismatch' } }),
    ]);
    expect(parseUploadState(answer).jobs).toEqual([]);
    expect(() => parseUploadState({ ...answer, jobs: [{ job_id: 'j1', status: 'sleeping' }] })).toThrow(
      /malformed UploadState answer: jobs\.0\./,
    );
  });

  it('turns the snake_case answer into the port’s camelCase state, coercing bigint strings', () => {
    const state = parseUploadState(JSON.stringify(answer));
    expect(state).toMatchObject({
      entityId: 'e1',
      status: 'uploading',
      attempt: 1,
      metadata: {},
      failureReason: null,
    });
    expect(state.requirements[0]).toEqual({
      slot: 'document',
      minCount: 1,
      maxCount: 1,
      maxBytes: 10,
      allowedMimeTypes: ['a/b'],
    });
    expect(state.files[0]).toMatchObject({
      fileId: 'f1',
      declaredSize: 10,
      objectExists: true,
      objectMatches: false,
      sha256: null,
    });
  });

  it('a drifted answer fails naming the field, and the machine treats it as fatal (never retried)', () => {
    let error: unknown;
    try {
      parseUploadState({ ...answer, status: 'archived', attempt: -1 });
    } catch (e) {
      error = e;
    }
    expect(String((error as Error).message)).toContain('status');
    expect(classifyFailure(error)).toBe('fatal');
  });

  it('reads register_upload_file as an object or a one-row set', () => {
    const row = { file_id: 'f', bucket_id: 'b', object_path: 'p', file_key: 'k' };
    expect(parseRegisteredFile([row])).toEqual({ fileId: 'f', key: 'k', bucketId: 'b', objectPath: 'p' });
    expect(parseRegisteredFile(row)).toEqual({ fileId: 'f', key: 'k', bucketId: 'b', objectPath: 'p' });
    // An answer from before file keys: the file id stands in for the key.
    const { file_key: _key, ...old } = row;
    expect(parseRegisteredFile(old)).toMatchObject({ fileId: 'f', key: 'f' });
  });
});

/**
 * A local stand-in for Supabase Storage, for tests and the demo: the standard upload endpoint
 * (`POST /storage/v1/object/{bucket}/{path}`) and the resumable one (`/storage/v1/upload/resumable`,
 * tus 1.0 via `@tus/server` + `@tus/file-store`). Like Supabase's storage server it checks the
 * caller's permission with a rolled-back INSERT as the caller when an upload is created, keeps the
 * bytes, and writes the `storage.objects` row (`writeStorageObject`: as service_role, `owner_id` =
 * the uploader) when the upload is complete. Error bodies follow DESIGN §3: a policy refusal is
 * HTTP 400 `{ statusCode: "403", error: "Unauthorized", code: "AccessDenied" }` on the standard
 * endpoint and a real 403 on the resumable one; an existing object without upsert is 409.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import type { Upload } from '@tus/utils';
import { actAs, type SqlClient } from '../db/client.js';
import { StorageWriteError, mimeAllowed, writeStorageObject } from '../db/storage-write.js';
import {
  authenticate,
  headersOf,
  readBody,
  sendJson,
  type LocalAuthOptions,
  type RecordedRequest,
} from './http.js';

export const RESUMABLE_PATH = '/storage/v1/upload/resumable';
const OBJECT_PREFIX = '/storage/v1/object/';

export interface StorageHandlerOptions extends LocalAuthOptions {
  /** Where bytes are kept (tus uploads and standard objects). */
  directory: string;
  log?: RecordedRequest[];
}

/** One write of the tus file store: the offset a PATCH (or creation) began at and where it ended. */
export interface ChunkWrite {
  uploadId: string;
  offset: number;
  /** The offset after the write; null when the connection died mid-body. */
  end: number | null;
  /** Body bytes that reached the store in this write. */
  bytes: number;
}

/** FileStore that records every write, so tests can see what bytes arrived where. */
class RecordingFileStore extends FileStore {
  readonly writes: ChunkWrite[] = [];

  override async write(
    readable: IncomingMessage | Readable,
    uploadId: string,
    offset: number,
  ): Promise<number> {
    const record: ChunkWrite = { uploadId, offset, end: null, bytes: 0 };
    this.writes.push(record);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        record.bytes += chunk.length;
        callback(null, chunk);
      },
    });
    pipeline(readable as Readable, counter, () => undefined);
    const end = await super.write(counter, uploadId, offset);
    record.end = end;
    return end;
  }
}

type Refusal = { status_code: number; body: string };
const refusal = (status: number, body: Record<string, unknown>): Refusal => ({
  status_code: status,
  body: JSON.stringify(body),
});

/** Supabase Storage's error body for a StorageWriteError. */
function errorBody(error: StorageWriteError) {
  const error_ = {
    403: 'Unauthorized',
    404: 'Not Found',
    409: 'Duplicate',
    413: 'Payload too large',
    415: 'invalid_mime_type',
    400: 'Bad Request',
  }[error.status];
  return { statusCode: String(error.status), error: error_, code: error.code, message: error.message };
}

/**
 * The INSERT-as-caller permission probe Supabase's storage server runs before accepting bytes,
 * rolled back; plus the bucket's size and type limits.
 */
async function probe(
  db: SqlClient,
  write: { bucketId: string; name: string; ownerId: string; size: number; mimetype: string },
) {
  const { rows } = await db.query<{ file_size_limit: string | null; allowed_mime_types: string[] | null }>(
    'select file_size_limit, allowed_mime_types from storage.buckets where id = $1',
    [write.bucketId],
  );
  const bucket = rows[0];
  if (!bucket) throw new StorageWriteError(404, 'NoSuchBucket', 'Bucket not found');
  if (bucket.file_size_limit !== null && write.size > Number(bucket.file_size_limit)) {
    throw new StorageWriteError(413, 'EntityTooLarge', 'The object exceeded the maximum allowed size');
  }
  if (bucket.allowed_mime_types?.length && !mimeAllowed(write.mimetype, bucket.allowed_mime_types)) {
    throw new StorageWriteError(415, 'InvalidMimeType', `mime type ${write.mimetype} is not supported`);
  }
  class Rollback extends Error {}
  await db
    .transaction(async (tx) => {
      await actAs(tx, { role: 'authenticated', userId: write.ownerId });
      await tx.query(
        `insert into storage.objects (bucket_id, name, owner, owner_id, metadata) values ($1, $2, $3::uuid, $3, $4::jsonb)`,
        [
          write.bucketId,
          write.name,
          write.ownerId,
          JSON.stringify({ size: write.size, mimetype: write.mimetype }),
        ],
      );
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (error instanceof Rollback) return;
      const code = (error as { code?: string }).code;
      if (code === '42501')
        throw new StorageWriteError(403, 'AccessDenied', 'new row violates row-level security policy');
      if (code === '23505') throw new StorageWriteError(409, 'Duplicate', 'The resource already exists');
      throw error;
    });
}

/**
 * The storage routes. `handle(req, res)` answers a request under `/storage/v1/` (and returns
 * false for anything else); `writes` and `readObject` are for tests and the demo.
 */
export function createStorageHandler(db: SqlClient, options: StorageHandlerOptions) {
  const store = new RecordingFileStore({ directory: join(options.directory, 'resumable') });
  const owners = new Map<string, string>();
  const objectFiles = new Map<string, string>();

  const userOf = (headers: Headers | Record<string, string>): string => {
    const plain = headers instanceof Headers ? Object.fromEntries(headers.entries()) : headers;
    const auth = authenticate(plain, options);
    if (!auth.ok)
      throw refusal(auth.status, {
        statusCode: String(auth.status),
        error: 'Unauthorized',
        message: String(auth.body.message),
      });
    if (auth.actor.role !== 'authenticated') {
      throw refusal(403, {
        statusCode: '403',
        error: 'Unauthorized',
        code: 'AccessDenied',
        message: 'sign in to upload',
      });
    }
    return auth.actor.userId;
  };

  const tusServer = new TusServer({
    path: RESUMABLE_PATH,
    datastore: store,
    namingFunction: () => randomUUID(),
    onIncomingRequest: async (req, uploadId) => {
      const userId = userOf(req.headers);
      const owner = owners.get(uploadId);
      if (owner !== undefined && owner !== userId) {
        throw refusal(404, { statusCode: '404', error: 'not_found', message: 'Upload not found' });
      }
    },
    onUploadCreate: async (req, upload) => {
      const userId = userOf(req.headers);
      const { bucketName, objectName, contentType } = upload.metadata ?? {};
      if (!bucketName || !objectName) {
        throw refusal(400, {
          statusCode: '400',
          error: 'InvalidRequest',
          message: 'metadata bucketName and objectName are required',
        });
      }
      const upsert = req.headers.get('x-upsert') === 'true';
      try {
        await probe(db, {
          bucketId: bucketName,
          name: objectName,
          ownerId: userId,
          size: upload.size ?? 0,
          mimetype: contentType ?? 'application/octet-stream',
        });
      } catch (error) {
        if (error instanceof StorageWriteError && !(error.code === 'Duplicate' && upsert)) {
          throw refusal(error.status, errorBody(error));
        }
        if (!(error instanceof StorageWriteError)) throw error;
      }
      owners.set(upload.id, userId);
      return { metadata: { ...upload.metadata, upsert: String(upsert) } };
    },
    onUploadFinish: async (req, upload: Upload) => {
      const meta = upload.metadata ?? {};
      try {
        await writeStorageObject(db, {
          bucketId: meta.bucketName!,
          name: meta.objectName!,
          ownerId: owners.get(upload.id) ?? userOf(req.headers),
          size: upload.size ?? upload.offset,
          mimetype: meta.contentType ?? 'application/octet-stream',
          upsert: meta.upsert === 'true',
        });
      } catch (error) {
        // The bytes are here but the row is not: drop the upload so a retry starts afresh
        // instead of finding a "complete" upload that never became an object.
        await store.remove(upload.id).catch(() => undefined);
        if (error instanceof StorageWriteError) throw refusal(error.status, errorBody(error));
        throw error;
      }
      objectFiles.set(
        `${meta.bucketName}/${meta.objectName}`,
        join(options.directory, 'resumable', upload.id),
      );
      return {};
    },
  });

  async function standardUpload(req: IncomingMessage, res: ServerResponse, entry: RecordedRequest) {
    const path = decodeURIComponent((req.url ?? '').slice(OBJECT_PREFIX.length).split('?')[0]!);
    const slash = path.indexOf('/');
    const bucketId = path.slice(0, slash);
    const name = path.slice(slash + 1);
    const answer = (status: number, body: unknown) => {
      entry.status = status;
      sendJson(res, status, body);
    };
    let userId: string;
    try {
      userId = userOf(entry.headers);
    } catch (error) {
      const r = error as Refusal;
      return answer(r.status_code === 403 ? 400 : r.status_code, JSON.parse(r.body));
    }
    const raw = await readBody(req);
    let bytes: Uint8Array = raw;
    let mimetype = entry.headers['content-type'] ?? 'application/octet-stream';
    if (mimetype.startsWith('multipart/form-data')) {
      const form = await new Request('http://local/', {
        method: 'POST',
        headers: { 'content-type': mimetype },
        body: raw as unknown as BodyInit,
      }).formData();
      const file = [...form.values()].find((v): v is File => typeof v !== 'string');
      if (!file)
        return answer(400, { statusCode: '400', error: 'InvalidRequest', message: 'no file in form' });
      bytes = new Uint8Array(await file.arrayBuffer());
      mimetype = file.type || 'application/octet-stream';
    }
    try {
      await writeStorageObject(db, {
        bucketId,
        name,
        ownerId: userId,
        size: bytes.length,
        mimetype,
        upsert: entry.headers['x-upsert'] === 'true',
      });
    } catch (error) {
      if (!(error instanceof StorageWriteError)) throw error;
      // Supabase answers a policy refusal on this endpoint with HTTP 400 and statusCode "403".
      return answer(error.status === 403 ? 400 : error.status, errorBody(error));
    }
    const file = join(options.directory, 'objects', randomUUID());
    await mkdir(join(options.directory, 'objects'), { recursive: true });
    await writeFile(file, bytes);
    objectFiles.set(`${bucketId}/${name}`, file);
    answer(200, { Id: randomUUID(), Key: `${bucketId}/${name}` });
  }

  return {
    writes: store.writes,
    async readObject(bucketId: string, name: string): Promise<Uint8Array | undefined> {
      const file = objectFiles.get(`${bucketId}/${name}`);
      return file ? new Uint8Array(await readFile(file)) : undefined;
    },
    /** Answers requests under `/storage/v1/`; false for any other path. */
    async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const url = req.url ?? '';
      const entry: RecordedRequest = { method: req.method ?? '', path: url, headers: headersOf(req) };
      if (url.startsWith(RESUMABLE_PATH)) {
        options.log?.push(entry);
        res.on('finish', () => (entry.status = res.statusCode));
        await tusServer.handle(req, res);
        return true;
      }
      if (url.startsWith(OBJECT_PREFIX) && req.method === 'POST') {
        options.log?.push(entry);
        await standardUpload(req, res, entry);
        return true;
      }
      return false;
    },
  };
}

export type StorageHandler = ReturnType<typeof createStorageHandler>;

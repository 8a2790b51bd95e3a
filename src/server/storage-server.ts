/**
 * A local stand-in for Supabase Storage, for tests and the demo, answering as Supabase's storage
 * server does (docs/storage.md, "The local server"): the standard upload
 * (`POST /storage/v1/object/{bucket}/{path}`), bulk remove (`DELETE /storage/v1/object/{bucket}`)
 * and the resumable endpoint (`/storage/v1/upload/resumable`, tus 1.0 via `@tus/server` +
 * `@tus/file-store`).
 *
 * The write rules are the shared ones of `src/db/storage-write.ts`, in the real server's order per
 * endpoint. Answers: a refusal on the standard endpoint is HTTP 400 (500 for a database error)
 * with `{ statusCode, code, error, message }` carrying the real status; on the resumable endpoint
 * it is the real status with the message as text. tus checks the caller's permission on creation
 * and on every PATCH, never on HEAD: anyone may read an upload's offset, only a caller the
 * policies allow may add bytes. A bad or expired bearer is HTTP 400 `InvalidJWT`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import type { Upload } from '@tus/utils';
import { actAs, type Actor, type SqlClient } from '../db/client.js';
import {
  StorageWriteError,
  checkStorageWrite,
  storeObjectRow,
  writeStorageObject,
  type StorageObjectWrite,
} from '../db/storage-write.js';
import { SIGN_PREFIX, createSigningRoutes } from './storage-signing.js';
import { InvalidJwt, answerOf, standardStatus, tusRefusal, type TusRefusal } from './storage-answers.js';
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
  /** Called when a write of `uploadId` has ended, stored or failed. */
  onWriteEnd: (uploadId: string) => void = () => undefined;

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
    try {
      const end = await super.write(counter, uploadId, offset);
      record.end = end;
      return end;
    } finally {
      this.onWriteEnd(uploadId);
    }
  }
}

/**
 * The storage routes. `handle(req, res)` answers a request under `/storage/v1/` (and returns
 * false for anything else); `writes` and `readObject` are for tests and the demo.
 */
export function createStorageHandler(db: SqlClient, options: StorageHandlerOptions) {
  const store = new RecordingFileStore({ directory: join(options.directory, 'resumable') });
  const objectFiles = new Map<string, string>();
  /**
   * PATCHes that may still store bytes, by upload id: each ends when its write ends, when it is
   * refused before writing, or when its handling settles, whichever comes first.
   */
  const patching = new Map<string, { ended: Promise<void>; end: () => void }>();
  const endPatch = (id: string) => {
    patching.get(id)?.end();
    patching.delete(id);
  };
  store.onWriteEnd = endPatch;

  /** The caller, as Storage's auth hook sees it; a bad bearer is InvalidJWT. */
  const callerOf = (headers: Headers | Record<string, string>): Actor => {
    const plain = headers instanceof Headers ? Object.fromEntries(headers.entries()) : headers;
    const auth = authenticate(plain, options);
    if (!auth.ok) throw new InvalidJwt(400, String(auth.body.message));
    return auth.actor;
  };
  const writerOf = (caller: Actor): Pick<StorageObjectWrite, 'ownerId' | 'role'> =>
    caller.role === 'authenticated'
      ? { ownerId: caller.userId, role: 'authenticated' }
      : {
          ownerId: null,
          role: caller.role === 'service_role' || caller.role === 'superuser' ? 'service_role' : 'anon',
        };

  /** tus hooks throw TusRefusals; anything else they throw is rendered the same way. */
  const asTusRefusal = (error: unknown): TusRefusal => {
    if (error instanceof InvalidJwt) return { status_code: 400, body: JSON.stringify(error.answer.body) };
    return tusRefusal(answerOf(error));
  };

  const tusServer = new TusServer({
    path: RESUMABLE_PATH,
    datastore: store,
    namingFunction: () => randomUUID(),
    onIncomingRequest: async (req, uploadId) => {
      try {
        const caller = callerOf(req.headers);
        // Storage authorizes neither HEAD nor OPTIONS: anyone may read an upload's offset. Unlike
        // the real server, a HEAD here waits for a PATCH of the same upload still being stored
        // (a dropped one), so the offset it answers is final (docs/storage.md, what differs).
        if (req.method === 'HEAD') await patching.get(uploadId)?.ended;
        if (req.method !== 'PATCH') return;
        const upload = await store.getUpload(uploadId);
        const meta = upload.metadata ?? {};
        await checkStorageWrite(
          db,
          {
            bucketId: meta.bucketName ?? '',
            name: meta.objectName ?? '',
            ...writerOf(caller),
            size: upload.size ?? 0,
            mimetype: meta.contentType ?? 'application/octet-stream',
            upsert: meta.upsert === 'true',
          },
          'resumable-chunk',
        );
      } catch (error) {
        if (req.method === 'PATCH') endPatch(uploadId);
        throw asTusRefusal(error);
      }
    },
    onUploadCreate: async (req, upload) => {
      const upsert = req.headers.get('x-upsert') === 'true';
      try {
        const { bucketName, objectName, contentType } = upload.metadata ?? {};
        if (!bucketName || !objectName)
          throw new StorageWriteError(
            400,
            'InvalidRequest',
            'metadata bucketName and objectName are required',
          );
        await checkStorageWrite(
          db,
          {
            bucketId: bucketName,
            name: objectName,
            ...writerOf(callerOf(req.headers)),
            size: upload.size ?? 0,
            mimetype: contentType ?? 'application/octet-stream',
            upsert,
          },
          'resumable',
        );
      } catch (error) {
        throw asTusRefusal(error);
      }
      return { metadata: { ...upload.metadata, upsert: String(upsert) } };
    },
    onUploadFinish: async (req, upload: Upload) => {
      const meta = upload.metadata ?? {};
      try {
        // The row is written for the caller whose request completed the upload (the policies let
        // that caller write it, or the PATCH was refused).
        await storeObjectRow(db, {
          bucketId: meta.bucketName!,
          name: meta.objectName!,
          ...writerOf(callerOf(req.headers)),
          size: upload.size ?? upload.offset,
          mimetype: meta.contentType ?? 'application/octet-stream',
          upsert: meta.upsert === 'true',
        });
      } catch (error) {
        // The bytes are here but the row is not: drop the upload so a retry starts afresh
        // instead of finding a "complete" upload that never became an object.
        await store.remove(upload.id).catch(() => undefined);
        throw asTusRefusal(error);
      }
      objectFiles.set(
        `${meta.bucketName}/${meta.objectName}`,
        join(options.directory, 'resumable', upload.id),
      );
      return {};
    },
  });

  function bucketAndName(url: string) {
    const path = decodeURIComponent(url.slice(OBJECT_PREFIX.length).split('?')[0]!);
    const slash = path.indexOf('/');
    return slash < 0
      ? { bucketId: path, name: '' }
      : { bucketId: path.slice(0, slash), name: path.slice(slash + 1) };
  }

  async function standardUpload(req: IncomingMessage, res: ServerResponse, entry: RecordedRequest) {
    const { bucketId, name } = bucketAndName(req.url ?? '');
    const answer = (status: number, body: unknown) => {
      entry.status = status;
      sendJson(res, status, body);
    };
    try {
      const caller = callerOf(entry.headers);
      const raw = await readBody(req);
      let bytes: Uint8Array = raw;
      let mimetype = entry.headers['content-type'] ?? 'application/octet-stream';
      const form = mimetype.startsWith('multipart/form-data');
      if (form) {
        const parsed = await new Request('http://local/', {
          method: 'POST',
          headers: { 'content-type': mimetype },
          body: raw as unknown as BodyInit,
        }).formData();
        const file = [...parsed.values()].find((v): v is File => typeof v !== 'string');
        if (!file) throw new StorageWriteError(400, 'InvalidRequest', 'no file in form');
        bytes = new Uint8Array(await file.arrayBuffer());
        mimetype = file.type || 'application/octet-stream';
      }
      await writeStorageObject(
        db,
        {
          bucketId,
          name,
          ...writerOf(caller),
          size: bytes.length,
          mimetype,
          upsert: entry.headers['x-upsert'] === 'true',
        },
        form ? 'form' : 'standard',
      );
      const file = join(options.directory, 'objects', randomUUID());
      await mkdir(join(options.directory, 'objects'), { recursive: true });
      await writeFile(file, bytes);
      objectFiles.set(`${bucketId}/${name}`, file);
      answer(200, { Id: randomUUID(), Key: `${bucketId}/${name}` });
    } catch (error) {
      const rendered = error instanceof InvalidJwt ? error.answer : answerOf(error);
      answer(standardStatus(rendered), rendered.body);
    }
  }

  /** `storage.from(bucket).remove(paths)`: deletes as the caller; answers the objects deleted. */
  async function removeObjects(req: IncomingMessage, res: ServerResponse, entry: RecordedRequest) {
    const { bucketId } = bucketAndName(req.url ?? '');
    const answer = (status: number, body: unknown) => {
      entry.status = status;
      sendJson(res, status, body);
    };
    try {
      const caller = callerOf(entry.headers);
      let prefixes: unknown;
      try {
        prefixes = (JSON.parse((await readBody(req)).toString('utf8') || '{}') as { prefixes?: unknown })
          .prefixes;
      } catch {
        prefixes = undefined;
      }
      if (!Array.isArray(prefixes) || prefixes.length < 1 || prefixes.length > 1000)
        throw new StorageWriteError(400, 'InvalidRequest', 'body/prefixes must have 1 to 1000 items');
      const { rows } = await db.transaction(async (tx) => {
        await actAs(tx, caller);
        await tx.query(`select set_config('storage.allow_delete_query', 'true', true)`);
        return tx.query<{ name: string }>(
          `delete from storage.objects where bucket_id = $1 and name = any($2::text[])
           returning id, name, bucket_id, owner, owner_id, created_at, updated_at, last_accessed_at, metadata`,
          [bucketId, prefixes],
        );
      });
      for (const row of rows) {
        const file = objectFiles.get(`${bucketId}/${row.name}`);
        objectFiles.delete(`${bucketId}/${row.name}`);
        if (file) await rm(file, { force: true });
      }
      answer(200, rows);
    } catch (error) {
      const rendered = error instanceof InvalidJwt ? error.answer : answerOf(error);
      answer(standardStatus(rendered), rendered.body);
    }
  }

  async function readObject(bucketId: string, name: string): Promise<Uint8Array | undefined> {
    const file = objectFiles.get(`${bucketId}/${name}`);
    return file ? new Uint8Array(await readFile(file)) : undefined;
  }
  const signing = createSigningRoutes(db, { ...options, callerOf, readObject });

  /**
   * `GET /storage/v1/object/{bucket}/{path}` (and `/object/authenticated/…`), what storage-js
   * `download()` asks: the bytes of an object the caller may read (its SELECT policy on
   * `storage.objects`; the service_role reads any), else Storage's 400 with `statusCode` 404.
   */
  async function downloadObject(req: IncomingMessage, res: ServerResponse, entry: RecordedRequest) {
    let { bucketId, name } = bucketAndName(req.url ?? '');
    if (bucketId === 'authenticated') ({ bucketId, name } = bucketAndName(`${OBJECT_PREFIX}${name}`));
    const answer = (status: number, body: unknown) => {
      entry.status = status;
      sendJson(res, status, body);
    };
    try {
      const caller = callerOf(entry.headers);
      const { rows } = await db.transaction(async (tx) => {
        await actAs(tx, caller);
        return tx.query<{ mimetype: string | null }>(
          `select metadata ->> 'mimetype' as mimetype from storage.objects where bucket_id = $1 and name = $2`,
          [bucketId, name],
        );
      });
      const bytes = rows.length > 0 ? await readObject(bucketId, name) : undefined;
      if (!bytes) return answer(400, { statusCode: '404', error: 'not_found', message: 'Object not found' });
      entry.status = 200;
      res.writeHead(200, {
        'content-type': rows[0]!.mimetype ?? 'application/octet-stream',
        'content-length': bytes.length,
      });
      res.end(bytes);
    } catch (error) {
      const rendered = error instanceof InvalidJwt ? error.answer : answerOf(error);
      answer(standardStatus(rendered), rendered.body);
    }
  }

  return {
    writes: store.writes,
    readObject,
    /** Answers requests under `/storage/v1/`; false for any other path. */
    async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const url = req.url ?? '';
      const entry: RecordedRequest = { method: req.method ?? '', path: url, headers: headersOf(req) };
      if (url.startsWith(RESUMABLE_PATH)) {
        options.log?.push(entry);
        res.on('finish', () => (entry.status = res.statusCode));
        const id = url.split('?')[0]!.split('/').pop()!;
        if (req.method === 'PATCH') {
          let end = () => undefined as void;
          const ended = new Promise<void>((resolve) => (end = resolve));
          patching.get(id)?.end();
          patching.set(id, { ended, end });
        }
        try {
          await tusServer.handle(req, res);
        } finally {
          if (req.method === 'PATCH') endPatch(id);
        }
        return true;
      }
      if (url.startsWith(SIGN_PREFIX)) {
        options.log?.push(entry);
        res.on('finish', () => (entry.status = res.statusCode));
        return signing.handle(req, res, entry.headers);
      }
      if (url.startsWith(OBJECT_PREFIX) && req.method === 'POST') {
        options.log?.push(entry);
        await standardUpload(req, res, entry);
        return true;
      }
      if (url.startsWith(OBJECT_PREFIX) && req.method === 'GET') {
        options.log?.push(entry);
        await downloadObject(req, res, entry);
        return true;
      }
      if (url.startsWith(OBJECT_PREFIX) && req.method === 'DELETE') {
        options.log?.push(entry);
        await removeObjects(req, res, entry);
        return true;
      }
      return false;
    },
  };
}

export type StorageHandler = ReturnType<typeof createStorageHandler>;

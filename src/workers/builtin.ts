/**
 * The built-in processors: `sha256` (the stored bytes have the hash the client declared) and
 * `type` (the stored bytes are what their declared type says, and the slot allows it).
 */
import { createSHA256 } from 'hash-wasm';
import { fileTypeFromStream, supportedMimeTypes } from 'file-type';
import { mimeAllowed } from '../core/mime.js';
import { defineProcessor, ProcessingRejectedError } from './processing.js';

/**
 * Reads the stored object through Storage (streamed, one chunk in memory at a time), hashes it and
 * compares with the SHA-256 the client declared at registration. A mismatch is a rejection (the
 * job is dead at once, the entity fails naming the file); without a declared hash the computed
 * one is recorded (`result.sha256`) and the job completes.
 */
export const sha256Processor = defineProcessor({
  name: 'sha256',
  async run({ job, read, signal }) {
    const hash = await createSHA256();
    hash.init();
    const reader = (await read()).getReader();
    let size = 0;
    for (;;) {
      if (signal.aborted) {
        await reader.cancel();
        throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      }
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      size += value.length;
    }
    const actual = hash.digest('hex');
    if (job.sha256 !== null && job.sha256 !== actual) {
      throw new ProcessingRejectedError(
        `file ${job.fileId}: the stored bytes have SHA-256 ${actual}, the client declared ${job.sha256}`,
        `slot ${job.slot}, ${size} bytes`,
      );
    }
    return { result: { sha256: actual, declared: job.sha256 !== null, size } };
  },
});

/** Equivalent names of one type (`file-type` answers the first). */
const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'application/x-pdf': 'application/pdf',
  'audio/mp3': 'audio/mpeg',
  'application/x-zip-compressed': 'application/zip',
};
const canonical = (mime: string) => ALIASES[mime.toLowerCase()] ?? mime.toLowerCase();
const recognizable = new Set<string>([...supportedMimeTypes].map(canonical));

/**
 * Recognizes the stored object's type by its magic numbers (`file-type`, reading only what it needs). The
 * job is rejected when the bytes are of a type other than declared (a PNG uploaded as
 * `application/pdf`), or of a type the slot does not allow, or not recognizable although the
 * declared type has a signature. A declared type without a signature (`text/plain`, `text/csv`,
 * `application/json`) cannot be told from its bytes and passes.
 */
export const typeProcessor = defineProcessor({
  name: 'type',
  async run({ job, read }) {
    const declared = canonical(job.mime);
    // From the stream: file-type reads only what it needs (a zip-based format reads past 4 kB to
    // its entries' names), and the rest is never read.
    const stream = await read();
    const detected = await fileTypeFromStream(stream);
    await stream.cancel().catch(() => {});
    const found = detected ? canonical(detected.mime) : null;
    if (found === null) {
      if (recognizable.has(declared)) {
        throw new ProcessingRejectedError(
          `file ${job.fileId}: declared ${job.mime}, but the stored bytes have no ${job.mime} signature`,
        );
      }
      return { result: { detected: null, declared: job.mime } };
    }
    if (found !== declared) {
      throw new ProcessingRejectedError(
        `file ${job.fileId}: declared ${job.mime}, but the stored bytes are ${detected!.mime}`,
      );
    }
    if (job.allowedMimeTypes !== null && !mimeAllowed(found, job.allowedMimeTypes)) {
      throw new ProcessingRejectedError(
        `file ${job.fileId}: ${found} is not allowed in slot ${job.slot}`,
        `allowed: ${job.allowedMimeTypes.join(', ')}`,
      );
    }
    return { result: { detected: detected!.mime, extension: detected!.ext } };
  },
});

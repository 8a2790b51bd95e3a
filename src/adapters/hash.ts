/**
 * The SHA-256 of a file as the adapters read it for a transfer (issue 15): streamed from the Blob
 * (one chunk in memory at a time, never the whole file), or over the bytes already in memory. The
 * adapters run it beside the transfer, so hashing costs no time of its own on a multi-core client
 * and no round trip: the machine declares the hashes with finalize.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { abortError, type ByteSource } from '../core/port.js';

/** Bytes hashed per step over an in-memory body, so a long hash yields to the transfer. */
const STEP = 4 * 1024 * 1024;

/** The hex SHA-256 of `body`; rejects with the abort error when `signal` aborts. */
export async function sha256Of(body: ByteSource, signal?: AbortSignal): Promise<string> {
  const hash = sha256.create();
  if (body instanceof Uint8Array) {
    for (let at = 0; at < body.length; at += STEP) {
      if (signal?.aborted) throw abortError();
      hash.update(body.subarray(at, Math.min(at + STEP, body.length)));
      // Let the transfer's callbacks run between steps.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    return bytesToHex(hash.digest());
  }
  const reader = body.stream().getReader();
  for (;;) {
    if (signal?.aborted) {
      await reader.cancel().catch(() => {});
      throw abortError();
    }
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
  }
  return bytesToHex(hash.digest());
}

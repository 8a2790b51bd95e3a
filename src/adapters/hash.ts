/**
 * The SHA-256 of a file as the machine declares it at registration (issue 15, `sha256: true`):
 * streamed from the Blob (one chunk in memory at a time, never the whole file), or over the bytes
 * already in memory, in steps that yield to the event loop. `hash-wasm` (WebAssembly, the same in
 * browsers, Node and Deno): 2–3× the throughput of a pure-JS SHA-256 on this machine, which is
 * what a large file waits before its upload starts. WebCrypto's `digest` would need the whole file
 * in memory.
 */
import { createSHA256 } from 'hash-wasm';
import { abortError, type ByteSource } from '../core/port.js';

/** Bytes hashed per step over an in-memory body, so a long hash yields to the transfer. */
const STEP = 4 * 1024 * 1024;

/** The hex SHA-256 of `body`; rejects with the abort error when `signal` aborts. */
export async function sha256Of(body: ByteSource, signal?: AbortSignal): Promise<string> {
  const hash = await createSHA256();
  hash.init();
  if (body instanceof Uint8Array) {
    for (let at = 0; at < body.length; at += STEP) {
      if (signal?.aborted) throw abortError();
      hash.update(body.subarray(at, Math.min(at + STEP, body.length)));
      // Let the transfer's callbacks run between steps.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    return hash.digest('hex');
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
  return hash.digest('hex');
}

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Of } from '../../src/adapters/hash.js';
import { StorageTransferError } from '../../src/core/port.js';

const bytes = Uint8Array.from({ length: 9 * 1024 * 1024 + 7 }, (_, i) => (i * 7919) & 0xff);
const expected = createHash('sha256').update(bytes).digest('hex');

describe('sha256Of', () => {
  it('hashes bytes in memory in steps, and a Blob as a stream, to the same digest as node:crypto', async () => {
    await expect(sha256Of(bytes)).resolves.toBe(expected);
    await expect(sha256Of(new Blob([bytes]))).resolves.toBe(expected);
    await expect(sha256Of(new Uint8Array(0))).resolves.toBe(createHash('sha256').digest('hex'));
  });

  it('stops with the abort error when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sha256Of(bytes, controller.signal)).rejects.toBeInstanceOf(StorageTransferError);
    await expect(sha256Of(new Blob([bytes]), controller.signal)).rejects.toMatchObject({
      storageCode: 'Aborted',
    });
  });
});

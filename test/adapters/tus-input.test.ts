import { describe, expect, it } from 'vitest';
import { toTusInput } from '../../src/adapters/tus-input.js';

describe('the bytes handed to tus-js-client', () => {
  it('in Node a Uint8Array body is sent from its own memory, not copied (also a view at an offset)', () => {
    const whole = new Uint8Array(1024).map((_, i) => i & 0xff);
    const view = whole.subarray(100, 612);
    for (const body of [whole, view]) {
      const input = toTusInput(body) as Buffer;
      expect(Buffer.isBuffer(input)).toBe(true);
      expect(input.buffer).toBe(body.buffer);
      expect(input.byteOffset).toBe(body.byteOffset);
      expect(input.byteLength).toBe(body.byteLength);
      expect(Buffer.compare(input, Buffer.from(body))).toBe(0);
      // Shared, not copied: a byte changed in the body is the byte tus would send.
      body[0] = 0xaa;
      expect(input[0]).toBe(0xaa);
    }
  });

  it('a Buffer is passed as it is, and a Blob (a browser File) untouched', () => {
    const buffer = Buffer.from('hello');
    expect(toTusInput(buffer)).toBe(buffer);
    const blob = new Blob(['hello']);
    expect(toTusInput(blob)).toBe(blob);
  });
});

/**
 * Sample files for the demo, made in the page (no fixtures to download): a PDF and PNGs of a
 * given size, with real magic bytes so they look like what they claim to be.
 */
function padded(header: string | number[], size: number, name: string, type: string): File {
  const bytes = new Uint8Array(size);
  const head = typeof header === 'string' ? new TextEncoder().encode(header) : Uint8Array.from(header);
  bytes.set(head.subarray(0, size));
  for (let i = head.length; i < size; i++) bytes[i] = (i * 31) & 0xff;
  return new File([bytes], name, { type });
}

export const samplePdf = (size = 600_000, name = 'quarterly-report.pdf') =>
  padded('%PDF-1.7\n%demo\n', size, name, 'application/pdf');

export const samplePng = (size = 300_000, name = 'photo.png') =>
  padded([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], size, name, 'image/png');

export const sampleText = (size = 2_000, name = 'notes.txt') => padded('notes', size, name, 'text/plain');

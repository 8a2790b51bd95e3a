/**
 * `thumbnailProcessor`: an optional image variant made with `sharp` (an optional peer dependency,
 * loaded only when a job runs). It is the Active Storage "variant" / Shrine "derivative" of this
 * package: a non-required job by default, so the entity completes without waiting for it, and the
 * owner sees its status and artifact per file (`get_upload_state` → `jobs[].artifacts`).
 *
 * `sharp` is native code: this processor runs in a Node worker (`runWorker`). An Edge Function
 * (Deno) cannot load it; run thumbnails in a Node worker, or use Supabase's image transformations.
 */
import { defineProcessor, ProcessingRejectedError, type Processor } from './processing.js';

export interface ThumbnailOptions {
  /** The processor name (`kind_processors.processor`). Default `thumbnail`. */
  name?: string;
  /** The artifact's variant name; the object is stored at `{file path}.{variant}`. Default `thumbnail`. */
  variant?: string;
  /** The box the image is fitted into (aspect ratio kept, never enlarged). Default 320 × 320. */
  width?: number;
  height?: number;
  /** The variant's format. Default `webp`. */
  format?: 'webp' | 'jpeg' | 'png' | 'avif';
  /** 1–100 for webp, jpeg and avif. Default 80. */
  quality?: number;
  /** Larger stored objects are refused (the job is dead, nothing is read past the limit). Default 50 MB. */
  maxInputBytes?: number;
  /** The slots it is meant for (documentation; `kind_processors` decides). */
  slots?: readonly string[];
  /** Whether the entity waits for it. Default false: a variant, not a check. */
  required?: boolean;
  maxAttempts?: number;
  timeoutMs?: number;
}

const CONTENT_TYPES = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
  avif: 'image/avif',
} as const;

type Sharp = typeof import('sharp').default;

let loading: Promise<Sharp> | undefined;

/** `sharp`, imported once when the first job runs. */
function loadSharp(): Promise<Sharp> {
  loading ??= import('sharp').then(
    (module) => module.default,
    (cause: unknown) => {
      loading = undefined;
      throw new Error(
        `thumbnailProcessor needs the optional peer dependency sharp (npm install sharp): ${String(cause)}`,
      );
    },
  );
  return loading;
}

/** Reads the whole stream, refusing more than `limit` bytes (the job is dead: the file is too large). */
async function readAll(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  signal: AbortSignal,
  fileId: string,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    if (signal.aborted) {
      await reader.cancel();
      throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    }
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new ProcessingRejectedError(`file ${fileId}: larger than the thumbnail limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * A processor that stores a thumbnail of an image file as an artifact.
 *
 * @example
 * ```ts
 * // kind_processors: ('gallery', 'thumbnail', 'photos', false, 3)
 * runWorker({ supabase: admin, processors: [sha256Processor, typeProcessor, thumbnailProcessor({ width: 256 })] });
 * ```
 */
export function thumbnailProcessor(options: ThumbnailOptions = {}): Processor {
  const width = options.width ?? 320;
  const height = options.height ?? 320;
  const format = options.format ?? 'webp';
  const quality = options.quality ?? 80;
  const variant = options.variant ?? 'thumbnail';
  const maxInputBytes = options.maxInputBytes ?? 50 * 1024 * 1024;
  for (const [name, value] of [
    ['width', width],
    ['height', height],
    ['maxInputBytes', maxInputBytes],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (!(format in CONTENT_TYPES))
    throw new RangeError(`format must be one of ${Object.keys(CONTENT_TYPES).join(', ')}`);
  return defineProcessor({
    name: options.name ?? 'thumbnail',
    required: options.required ?? false,
    ...(options.slots ? { slots: options.slots } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    async run({ job, read, putArtifact, signal }) {
      const sharp = await loadSharp();
      const input = await readAll(await read(), maxInputBytes, signal, job.fileId);
      let output: { data: Buffer; info: { width: number; height: number; size: number } };
      try {
        const pipeline = sharp(input, { failOn: 'error' })
          .rotate() // EXIF orientation, then the orientation tag is dropped
          .resize({ width, height, fit: 'inside', withoutEnlargement: true });
        output = await (format === 'png' ? pipeline.png() : pipeline[format]({ quality })).toBuffer({
          resolveWithObject: true,
        });
      } catch (error) {
        // The bytes are not an image sharp can read: retrying will not change them.
        throw new ProcessingRejectedError(
          `file ${job.fileId}: not an image the thumbnail processor can read (${job.mime})`,
          error instanceof Error ? error.message : String(error),
        );
      }
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      const artifact = await putArtifact(variant, new Uint8Array(output.data), CONTENT_TYPES[format]);
      return {
        result: {
          variant,
          width: output.info.width,
          height: output.info.height,
          format,
          size: output.info.size,
        },
        artifacts: [artifact],
      };
    },
  });
}

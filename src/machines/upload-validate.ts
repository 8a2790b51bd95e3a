/**
 * Client-side file checks: the same rules and the same error class (`InvalidFileError`, UL004) as
 * `upload_lifecycle.guard_entity_file()` and the finalize check, so bad input is refused before a
 * byte leaves the machine. The database stays the authority; this only saves a round trip.
 */
import { mimeAllowed } from '../core/mime.js';
import type { FileRequirement } from '../core/port.js';
import { InvalidFileError } from '../errors.js';

/** What validation needs to know about one file. */
export interface FileFacts {
  slot: string;
  name: string;
  size: number;
  type: string;
}

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;
// eslint-disable-next-line no-control-regex
const UNSAFE_NAME = /[\u0000-\u001f\u007f/\\]/;

/** The first problem with one file against its slot, or null. */
export function checkFile(
  file: FileFacts,
  requirements: readonly FileRequirement[],
): InvalidFileError | null {
  const requirement = requirements.find((r) => r.slot === file.slot);
  if (!requirement) {
    return new InvalidFileError({
      message: `unknown slot ${file.slot}`,
      detail: `known slots: ${requirements.map((r) => r.slot).join(', ')}`,
      hint: 'Use one of the slots of this kind.',
    });
  }
  if (!(file.size > 0)) {
    return new InvalidFileError({ message: 'file size must be positive', hint: 'Choose a non-empty file.' });
  }
  if (file.size > requirement.maxBytes) {
    return new InvalidFileError({
      message: `file too large: ${file.size} bytes, slot ${file.slot} allows at most ${requirement.maxBytes}`,
      hint: 'Choose a smaller file.',
    });
  }
  if (!MIME.test(file.type) || !mimeAllowed(file.type, requirement.allowedMimeTypes)) {
    return new InvalidFileError({
      message: `file type ${file.type || '(none)'} not allowed in slot ${file.slot}`,
      detail: `allowed: ${requirement.allowedMimeTypes.join(', ')}`,
      hint: 'Choose a file of an allowed type.',
    });
  }
  const bytes = new TextEncoder().encode(file.name).length;
  if (bytes === 0)
    return new InvalidFileError({ message: 'file name is empty', hint: "Send the file's name." });
  if (bytes > 255) {
    return new InvalidFileError({
      message: `file name too long: ${bytes} bytes, at most 255`,
      hint: 'Shorten the file name.',
    });
  }
  if (UNSAFE_NAME.test(file.name) || file.name === '.' || file.name === '..') {
    return new InvalidFileError({
      message: 'file name contains control characters or path separators',
      hint: 'Send the base name of the file only.',
    });
  }
  return null;
}

/**
 * Checks a set of files against a kind's requirements: each file, then the per-slot counts.
 * `complete` also demands every slot's `min_count` (what START and finalize need).
 */
export function checkFiles(
  files: readonly FileFacts[],
  requirements: readonly FileRequirement[],
  options: { complete?: boolean } = {},
): InvalidFileError | null {
  for (const file of files) {
    const problem = checkFile(file, requirements);
    if (problem) return problem;
  }
  for (const requirement of requirements) {
    const n = files.filter((f) => f.slot === requirement.slot).length;
    if (n > requirement.maxCount) {
      return new InvalidFileError({
        message: `too many files in slot ${requirement.slot}: at most ${requirement.maxCount}`,
        hint: 'Remove a file from this slot first.',
      });
    }
    if (options.complete && n < requirement.minCount) {
      return new InvalidFileError({
        message: `slot ${requirement.slot} needs at least ${requirement.minCount} file(s), has ${n}`,
        hint: 'Add the missing files.',
      });
    }
  }
  return null;
}

/** One more file for `slot` would be over its `max_count` (counting `files` already there). */
export function checkRoom(
  files: readonly { slot: string }[],
  slot: string,
  requirements: readonly FileRequirement[],
): InvalidFileError | null {
  const requirement = requirements.find((r) => r.slot === slot);
  if (!requirement) return null;
  const n = files.filter((f) => f.slot === slot).length;
  return n + 1 > requirement.maxCount
    ? new InvalidFileError({
        message: `too many files in slot ${slot}: at most ${requirement.maxCount}`,
        hint: 'Remove a file from this slot first.',
      })
    : null;
}

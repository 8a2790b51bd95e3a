/**
 * The one MIME rule, shared by client-side checks and the local Storage stand-in: the same as
 * `upload_lifecycle.mime_allowed` and Supabase buckets — an exact type (any case) or `type/*`.
 *
 * @example
 * ```ts
 * mimeAllowed('image/png', ['image/*']); // true
 * ```
 */
export function mimeAllowed(mime: string, allowed: readonly string[]): boolean {
  const m = mime.toLowerCase();
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    return p === m || (p.endsWith('/*') && m.split('/')[0] === p.split('/')[0]);
  });
}

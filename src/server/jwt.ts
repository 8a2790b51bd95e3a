/**
 * HS256 JWTs for the local server, shaped like Supabase's (`sub`, `role`, `aud`, `exp`).
 * For tests and the demo only: a real project verifies tokens with its own JWT secret or JWKS.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface LocalClaims {
  sub?: string;
  role: 'anon' | 'authenticated' | 'service_role';
  aud?: string;
  exp?: number;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export function signLocalJwt(claims: LocalClaims, secret: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** The claims of a valid token signed with `secret`, unexpired at `now` (ms), else null. */
export function verifyLocalJwt(token: string, secret: string, now = Date.now()): LocalClaims | null {
  const [head, body, sig] = token.split('.');
  if (!head || !body || !sig) return null;
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LocalClaims;
    if (claims.exp !== undefined && claims.exp * 1000 < now) return null;
    return claims;
  } catch {
    return null;
  }
}

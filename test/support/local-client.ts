/**
 * supabase-js clients for the local stack in tests. Node 20 has no WebSocket and no test uses
 * Realtime: its transport is one that throws if anything ever opens it.
 */
import { createClient } from '@supabase/supabase-js';

class NoRealtime {
  constructor() {
    throw new Error('realtime is not used here');
  }
}

/** The `realtime` option every test client passes. */
export const noRealtime = { realtime: { transport: NoRealtime as never } };

/** A client of the local stack with `key` (anon or service), acting as `token`'s user when given. */
export function localClient(url: string, key: string, token?: string) {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    ...noRealtime,
    ...(token ? { accessToken: async () => token } : {}),
  });
}

// Share links as a Supabase Edge Function (Deno 2): whoever holds a share token gets the shared
// upload and short-lived signed URLs of its files, without an account. Deploy it with
//   supabase functions deploy upload-lifecycle-share --no-verify-jwt
// (the link is opened by people without a session; the token is the credential) and link to
//   https://<project>.supabase.co/functions/v1/upload-lifecycle-share?token=<token>
// SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are set by the Edge runtime; elsewhere, set them yourself.
import { createClient } from 'npm:@supabase/supabase-js@2';
import { createShareHandler } from 'npm:upload-lifecycle@0/supabase';

const url = Deno.env.get('SUPABASE_URL');
const serviceKey = Deno.env.get('SUPABASE_SERVICE_ROLE_KEY');
if (!url || !serviceKey) throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set');

const admin = createClient(url, serviceKey, {
  auth: { persistSession: false, autoRefreshToken: false },
});

// The service key only ever signs the paths get_shared_upload lists for a live token.
Deno.serve(createShareHandler(admin, { expiresIn: 600 }));

// The processing worker as a Supabase Edge Function (Deno 2). Deploy it with
//   supabase functions deploy upload-lifecycle-process
// and call it on a schedule (docs/processing.md, "Running workers"): each call claims and runs
// jobs until none is left or maxJobs were taken. SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are
// set by the Edge runtime; elsewhere, set them yourself.
import { createClient } from 'npm:@supabase/supabase-js@2';
import { createProcessingHandler, sha256Processor, typeProcessor } from 'npm:upload-lifecycle@0/worker';

const url = Deno.env.get('SUPABASE_URL');
const serviceKey = Deno.env.get('SUPABASE_SERVICE_ROLE_KEY');
if (!url || !serviceKey) throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set');

const admin = createClient(url, serviceKey, {
  auth: { persistSession: false, autoRefreshToken: false },
});

// Only a caller holding the service key may run it (the scheduler sends it as the bearer).
Deno.serve(
  createProcessingHandler(admin, { token: serviceKey, processors: [sha256Processor, typeProcessor] }),
);

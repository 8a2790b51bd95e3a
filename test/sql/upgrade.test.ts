// The upgrade acceptance (specs/upgrade.ts) on PGlite; upgrade.pg.test.ts runs it on PostgreSQL.
import { PGlite } from '@electric-sql/pglite';
import { SUPABASE_SHIM_SQL } from '../../src/db/migrate.js';
import { fromPglite } from '../support/db.js';
import { upgradeSpec } from './specs/upgrade.js';

upgradeSpec('PGlite', async () => {
  const db = await PGlite.create();
  await db.exec(SUPABASE_SHIM_SQL);
  return fromPglite(db);
});

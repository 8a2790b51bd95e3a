/**
 * Drives an entity row to any status along the machine's own transitions, as service_role.
 */
import {
  LIFECYCLE_TRANSITIONS,
  type LifecycleTransition,
  type UploadStatus,
} from '../../src/machines/lifecycle.js';
import { forceObject, insertDraft, markVerified, registerFile, setStatus } from './fixtures.js';
import { as, superuser, type SqlClient } from './db.js';

/** Shortest list of transitions (breadth-first over the machine's table) from creation to `status`. */
export function pathTo(status: UploadStatus): LifecycleTransition[] {
  const queue: { at: UploadStatus | null; path: LifecycleTransition[] }[] = [{ at: null, path: [] }];
  const seen = new Set<UploadStatus | null>([null]);
  while (queue.length > 0) {
    const { at, path } = queue.shift()!;
    if (at === status) return path;
    for (const t of LIFECYCLE_TRANSITIONS.filter((row) => row.from === at)) {
      if (seen.has(t.to)) continue;
      seen.add(t.to);
      queue.push({ at: t.to, path: [...path, t] });
    }
  }
  throw new Error(`status ${status} is unreachable in the lifecycle`);
}

/** Makes the entity's requirements met: one verified file per required slot, object present. */
export async function satisfyRequirements(db: SqlClient, entityId: string, ownerId: string): Promise<void> {
  const { rows } = await db.query<{ slot: string; min_count: number; allowed_mime_types: string[] }>(
    `select r.slot, r.min_count, r.allowed_mime_types from upload_lifecycle.file_requirements r
     join upload_lifecycle.entities e on e.kind = r.kind where e.id = $1`,
    [entityId],
  );
  for (const r of rows) {
    for (let i = 0; i < r.min_count; i++) {
      const mime = r.allowed_mime_types[0]!.replace('/*', '/png');
      const file = await registerFile(db, entityId, { slot: r.slot, mime, size: 100 });
      await forceObject(db, ownerId, file);
    }
  }
  await markVerified(db, entityId);
}

/**
 * Makes `processing` reachable the way finalize does: a verified file in a slot of every required
 * processor of the kind (`processing` needs one to apply), then the jobs of the current attempt.
 */
export async function prepareProcessing(db: SqlClient, entityId: string, ownerId: string): Promise<void> {
  const { rows } = await db.query<{ slot: string; allowed_mime_types: string[] }>(
    `select distinct on (r.slot) r.slot, r.allowed_mime_types
     from upload_lifecycle.kind_processors p
     join upload_lifecycle.entities e on e.kind = p.kind
     join upload_lifecycle.file_requirements r on r.kind = p.kind and (p.slot is null or p.slot = r.slot)
     where e.id = $1 and p.required
       and not exists (select 1 from upload_lifecycle.entity_files f where f.entity_id = e.id and f.slot = r.slot)
     order by r.slot`,
    [entityId],
  );
  for (const r of rows.slice(0, 1)) {
    const mime = r.allowed_mime_types[0]!.replace('/*', '/png');
    const file = await registerFile(db, entityId, { slot: r.slot, mime, size: 100 });
    await forceObject(db, ownerId, file);
  }
  await markVerified(db, entityId);
  await as(db, superuser, (tx) => tx.query('select upload_lifecycle.create_jobs($1)', [entityId]));
}

/** Completes every job of the entity's current attempt, as the superuser (setup). */
export async function completeJobs(db: SqlClient, entityId: string): Promise<void> {
  await as(db, superuser, (tx) =>
    tx.exec(`
      update upload_lifecycle.jobs j set status = 'running', worker_id = 'setup', lease_until = now() + interval '1 hour'
        from upload_lifecycle.entities e
        where e.id = '${entityId}' and j.entity_id = e.id and j.entity_attempt = e.attempt and j.status = 'pending';
      update upload_lifecycle.jobs j set status = 'complete'
        from upload_lifecycle.entities e
        where e.id = '${entityId}' and j.entity_id = e.id and j.entity_attempt = e.attempt and j.status = 'running';`),
  );
}

/** Creates an entity and walks it to `status` through the lifecycle, as service_role. */
export async function entityAt(
  db: SqlClient,
  kind: string,
  ownerId: string,
  status: UploadStatus,
): Promise<string> {
  let id: string | undefined;
  for (const step of pathTo(status)) {
    if (step.from === null) {
      id = await insertDraft(db, kind, ownerId);
      continue;
    }
    // Files are registered only while uploading; from finalize on they are frozen.
    if (step.from === 'uploading' && (step.to === 'completed' || step.to === 'processing'))
      await satisfyRequirements(db, id!, ownerId);
    if (step.to === 'processing') await prepareProcessing(db, id!, ownerId);
    await setStatus(db, id!, step.to);
  }
  return id!;
}

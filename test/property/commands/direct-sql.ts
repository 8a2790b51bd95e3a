/** Direct SQL by any role: status updates, entity and file inserts, file verification. */
import { processorsRequired, requiredJobsComplete } from '../../support/model-jobs.js';
import {
  initialLifecycle,
  transitionLifecycle,
  type LifecycleEvent,
  type UploadStatus,
} from '../../../src/machines/lifecycle.js';
import { anon, service, superuser, user, type Actor } from '../../support/db.js';
import { runAs, sql } from '../sql.js';
import {
  MODEL_KINDS,
  MODEL_USERS,
  applyEvent,
  fileRequest,
  filesOf,
  modelFacts,
  problemsOf,
  registrationAllowed,
  statusOfEntity,
  type FileInvalidity,
  type FileRequest,
  type LifecycleModel,
} from '../../support/model-lifecycle.js';
import { NoRowError } from '../driver.js';
import {
  type Real,
  outcome,
  agree,
  otherUser,
  LifecycleCommand,
  EntityCommand,
  eventForStatusChange,
  addFile,
} from './base.js';

export type DirectRole = 'owner' | 'other' | 'anon' | 'service_role' | 'superuser';

function directActor(role: DirectRole, owner: number): Actor {
  switch (role) {
    case 'owner':
      return user(MODEL_USERS[owner]!);
    case 'other':
      return user(otherUser(owner));
    case 'anon':
      return anon;
    case 'service_role':
      return service;
    case 'superuser':
      return superuser;
  }
}

const privileged = (role: DirectRole) => role === 'service_role' || role === 'superuser';

/** `UPDATE upload_lifecycle.entities SET status = …` straight in SQL, as any role. */
export class DirectUpdateStatusCommand extends EntityCommand {
  constructor(
    entityRef: number,
    readonly role: DirectRole,
    readonly to: UploadStatus,
  ) {
    super(entityRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const status = statusOfEntity(entity);
    let allowed = false;
    let event: LifecycleEvent | undefined;
    if (privileged(this.role) && status !== null) {
      // Same status: no transition, but the commit-time check (0008) still judges a completed row
      // by the requirements as they stand now — tightened since completion, the update is refused.
      const requirementsMet = problemsOf(modelFacts(m, entity), true).length === 0;
      if (status === this.to)
        allowed =
          (status !== 'completed' && status !== 'processing') ||
          (requirementsMet && (status === 'completed' || processorsRequired(m, entity)));
      else {
        event = eventForStatusChange(entity.snapshot, this.to, {
          requirementsMet,
          reason: 'direct_sql',
          processorsRequired: processorsRequired(m, entity),
          requiredJobsComplete: requirementsMet && requiredJobsComplete(m, entity),
        });
        allowed = event !== undefined;
      }
    }
    const result = await outcome(
      runAs(
        r.db,
        directActor(this.role, entity.owner),
        sql`update upload_lifecycle.entities set status = ${this.to}::upload_lifecycle.upload_status,
                   failure_reason = coalesce(${this.to === 'failed' ? 'direct_sql' : null}, failure_reason)
             where id = ${entity.id}::uuid returning id`,
      ).then((rows) => {
        if (rows.length === 0) throw new NoRowError('update');
      }),
    );
    agree(this.toString(), allowed, result, 'sql update status', this.before);
    if (allowed && event) applyEvent(m, entity, event);
  }
  toString(): string {
    return `sql: update ${this.ref} set status = '${this.to}' as ${this.role}`;
  }
}

/** `INSERT INTO upload_lifecycle.entities` straight in SQL, with any status, as any role. */
export class DirectInsertEntityCommand extends LifecycleCommand {
  constructor(
    readonly owner: number,
    readonly kindIndex: number,
    readonly role: DirectRole,
    readonly status: UploadStatus,
  ) {
    super();
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const kind = m.kinds[this.kindIndex]!;
    const created = transitionLifecycle(initialLifecycle({ maxAttempts: kind.maxAttempts }), {
      type: 'create',
    });
    const allowed = privileged(this.role) && created.to === this.status;
    let id = '';
    const result = await outcome(
      runAs<{ id: string }>(
        r.db,
        directActor(this.role, this.owner),
        sql`insert into upload_lifecycle.entities (kind, owner_id, status)
            values (${kind.kind}, ${MODEL_USERS[this.owner]}::uuid, ${this.status}::upload_lifecycle.upload_status) returning id`,
      ).then((rows) => {
        id = rows[0]!.id;
      }),
    );
    this.resolved = `e${m.entities.length}`;
    agree(this.toString(), allowed, result, 'sql insert entity');
    if (result.ok)
      m.entities.push({
        id,
        owner: this.owner,
        kind,
        snapshot: created.snapshot,
        exists: true,
        statusSince: m.clock,
      });
  }
  toString(): string {
    const target = this.resolved ? `${this.resolved} = ` : '';
    return `${target}sql: insert entity(${MODEL_KINDS[this.kindIndex]!.kind}, owner u${this.owner}, status '${this.status}') as ${this.role}`;
  }
}

/** `INSERT INTO upload_lifecycle.entity_files` straight in SQL, as any role. */
export class DirectInsertFileCommand extends EntityCommand {
  private request?: FileRequest;
  constructor(
    entityRef: number,
    readonly role: DirectRole,
    readonly slotIndex: number,
    readonly invalid: FileInvalidity,
    readonly size: number,
  ) {
    super(entityRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const file = fileRequest(entity.kind, this.slotIndex, this.invalid, this.size);
    this.request = file;
    const allowed = privileged(this.role) && registrationAllowed(m, entity, file);
    const ownerId = MODEL_USERS[entity.owner]!;
    let row: { fileId: string; bucketId: string; objectPath: string } | undefined;
    const result = await outcome(
      runAs<{ id: string; bucket_id: string; object_path: string }>(
        r.db,
        directActor(this.role, entity.owner),
        sql`insert into upload_lifecycle.entity_files
              (entity_id, kind, slot, bucket_id, object_path, original_name, declared_size, declared_mime)
            values (${entity.id}::uuid, ${entity.kind.kind}, ${file.slot}, 'chosen-bucket', ${`${ownerId}/chosen/path`},
                    ${file.filename}, ${file.size}, ${file.mime}) returning id, bucket_id, object_path`,
      ).then((rows) => {
        const x = rows[0]!;
        row = { fileId: x.id, bucketId: x.bucket_id, objectPath: x.object_path };
      }),
    );
    agree(this.toString(), allowed, result, 'sql insert file', this.before);
    if (row) {
      const expectedPath = `${ownerId}/${entity.id}/${row.fileId}`;
      if (row.objectPath !== expectedPath || row.bucketId !== entity.kind.bucketId)
        throw new Error(`${this.toString()}: the file row took the path ${row.bucketId}/${row.objectPath}`);
      addFile(m, entity, file, row);
    }
  }
  toString(): string {
    const f = this.request;
    const what = f ? `${f.slot}, ${f.size} B, ${f.mime}` : `slot#${this.slotIndex}`;
    return `sql: insert file(${this.ref}, ${what}${this.invalid === 'none' ? '' : ` [invalid ${this.invalid}]`}) as ${this.role}`;
  }
}

/** `UPDATE entity_files SET verified_at = now()` straight in SQL (what finalize does first). */
export class DirectVerifyFilesCommand extends EntityCommand {
  constructor(
    entityRef: number,
    readonly role: DirectRole,
  ) {
    super(entityRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const files = filesOf(m, entity.id);
    // Authenticated has no UPDATE grant at all; anon not even the schema.
    const allowed = privileged(this.role) && (files.length === 0 || statusOfEntity(entity) === 'uploading');
    const result = await outcome(
      runAs(
        r.db,
        directActor(this.role, entity.owner),
        sql`update upload_lifecycle.entity_files set verified_at = now() where entity_id = ${entity.id}::uuid`,
      ),
    );
    agree(this.toString(), allowed, result, 'sql verify files', this.before);
    if (allowed) for (const f of files) f.verified = true;
  }
  toString(): string {
    return `sql: update files of ${this.ref} set verified_at = now() as ${this.role}`;
  }
}

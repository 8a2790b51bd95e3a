/** User-facing commands: create, begin/finalize/fail/retry, register and remove files, delete, fill. */
import { transitionLifecycle, type LifecycleEvent } from '../../../src/machines/lifecycle.js';
import { anon, service, user, type Actor } from '../../support/db.js';
import {
  MODEL_KINDS,
  MODEL_USERS,
  applyEvent,
  createByKey,
  deleteEntity,
  objectKey,
  registerByKey,
  removeFiles,
  fileRequest,
  filesOf,
  modelFacts,
  newEntitySnapshot,
  problemsOf,
  registrationAllowed,
  statusOfEntity,
  type FileInvalidity,
  type FileRequest,
  type LifecycleModel,
} from '../../support/model-lifecycle.js';
import { rpcActorFor, sqlActorFor, type LifecycleDriver, type Who } from '../driver.js';
import {
  type Real,
  outcome,
  agree,
  otherUser,
  LifecycleCommand,
  EntityCommand,
  FileCommand,
  eventForStatusChange,
  targetOf,
  type LifecycleOp,
  mayAct,
  addFile,
} from './base.js';
import { StoreObjectCommand } from './storage.js';
import { createJobs, processorsRequired } from '../../support/model-jobs.js';

/** A user-facing lifecycle call (begin, finalize, fail, retry) through the driver. */
export class LifecycleOpCommand extends EntityCommand {
  constructor(
    readonly op: LifecycleOp,
    entityRef: number,
    readonly who: Who,
  ) {
    super(entityRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const status = statusOfEntity(entity);
    const requirementsMet = problemsOf(modelFacts(m, entity), false).length === 0;
    const event: LifecycleEvent =
      this.op === 'finalize'
        ? { type: 'finalize', requirementsMet, processorsRequired: processorsRequired(m, entity) }
        : this.op === 'fail'
          ? { type: 'fail', reason: 'client_error' }
          : { type: this.op };

    let allowed = false;
    let apply: LifecycleEvent | undefined;
    if (status !== null && mayAct(m, this.who, this.op)) {
      if (this.op === 'finalize' && (status === 'completed' || status === 'processing'))
        allowed = true; // idempotent
      else if (m.caps.rpc) {
        allowed = transitionLifecycle(entity.snapshot, event).accepted;
        apply = event;
      } else {
        // The SQL driver can only ask for a status: it is the event that leads there, if any.
        apply = eventForStatusChange(entity.snapshot, targetOf(this.op), {
          requirementsMet,
          reason: 'client_error',
          // A status written directly creates no jobs: a required processor blocks `completed`.
          processorsRequired: processorsRequired(m, entity),
        });
        allowed = apply !== undefined;
      }
    }

    const ownerId = MODEL_USERS[entity.owner]!;
    const actor = (m.caps.rpc ? rpcActorFor : sqlActorFor)(this.who, ownerId, otherUser(entity.owner));
    const call = {
      begin_upload: () => r.driver.begin(r.db, actor, entity.id),
      finalize: () => r.driver.finalize(r.db, actor, entity.id),
      fail: () => r.driver.fail(r.db, actor, entity.id, 'client_error'),
      retry: () => r.driver.retry(r.db, actor, entity.id),
    }[this.op];
    // An actor who may not act at all is refused before the lifecycle is asked: its own row.
    const name = mayAct(m, this.who, this.op) ? this.op : `${this.op} (not the owner's)`;
    agree(this.toString(), allowed, await outcome(call()), name, this.before);
    if (allowed && apply && applyEvent(m, entity, apply) && this.op === 'finalize' && m.caps.rpc)
      createJobs(m, entity); // finalize_upload creates the attempt's jobs in its transaction
  }
  toString(): string {
    return `${this.op}(${this.ref}) as ${this.who}`;
  }
}

export class CreateDraftCommand extends LifecycleCommand {
  constructor(
    readonly owner: number,
    readonly kindIndex: number,
    readonly who: 'owner' | 'anon',
    /** A client-chosen idempotency key from a small pool shared by every owner, or none. */
    readonly key?: string,
  ) {
    super();
  }
  private answered = '';
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const kind = m.kinds[this.kindIndex]!;
    const ownerId = MODEL_USERS[this.owner]!;
    const actor: Actor = this.who === 'anon' ? anon : m.caps.rpc ? user(ownerId) : service;
    // The SQL driver inserts rows; keys are the RPC's business.
    const key = m.caps.rpc ? this.key : undefined;
    const keyed = createByKey(m, this.owner, kind, key);
    let id = '';
    const result = await outcome(
      r.driver.create(r.db, actor, ownerId, kind.kind, key).then((value) => {
        id = value;
      }),
    );
    const allowed = this.who === 'owner' && keyed.outcome !== 'refused';
    const name = key === undefined ? 'create_draft' : `create_draft with key (${keyed.outcome})`;
    agree(this.toString(), allowed, result, name);
    if (!result.ok) return;
    if (keyed.outcome === 'existing') {
      // The same key answers the entity it created, never a second row.
      this.answered = `e${m.entities.indexOf(keyed.existing)}`;
      if (id !== keyed.existing.id)
        throw new Error(`${this.toString()}: answered ${id}, the key belongs to ${keyed.existing.id}`);
      return;
    }
    this.answered = `e${m.entities.length}`;
    m.entities.push({
      id,
      owner: this.owner,
      kind,
      snapshot: newEntitySnapshot(kind),
      exists: true,
      statusSince: m.clock,
      ...(key === undefined ? {} : { idempotencyKey: key }),
    });
  }
  toString(): string {
    const target = this.answered ? `${this.answered} = ` : '';
    const key = this.key === undefined ? '' : `, key ${this.key}`;
    return `${target}create_draft(${MODEL_KINDS[this.kindIndex]!.kind}, owner u${this.owner}${key}) as ${this.who}`;
  }
}

export class RegisterFileCommand extends EntityCommand {
  constructor(
    entityRef: number,
    readonly who: Who,
    readonly slotIndex: number,
    readonly invalid: FileInvalidity,
    readonly size: number,
    /** A client-chosen file key from a small pool, or none. */
    readonly key?: string,
  ) {
    super(entityRef);
  }
  private request?: FileRequest;
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const file: FileRequest = {
      ...fileRequest(entity.kind, this.slotIndex, this.invalid, this.size),
      // The SQL driver inserts rows; keys are the RPC's business.
      ...(m.caps.rpc && this.key !== undefined ? { key: this.key } : {}),
    };
    this.request = file;
    const keyed = registerByKey(m, entity, file);
    const allowed =
      mayAct(m, this.who, 'files') &&
      (keyed.outcome === 'new' ? registrationAllowed(m, entity, file) : keyed.outcome === 'existing');
    const ownerId = MODEL_USERS[entity.owner]!;
    const actor = (m.caps.rpc ? rpcActorFor : sqlActorFor)(this.who, ownerId, otherUser(entity.owner));
    let row: Awaited<ReturnType<LifecycleDriver['register']>> | undefined;
    const result = await outcome(
      r.driver.register(r.db, actor, entity.id, file).then((value) => {
        row = value;
      }),
    );
    const name = file.key === undefined ? 'register_file' : `register_file with key (${keyed.outcome})`;
    agree(this.toString(), allowed, result, name, this.before);
    if (!row) return;
    if (keyed.outcome === 'existing') {
      // The same key answers the same registration, never a second row.
      if (row.fileId !== keyed.existing.id)
        throw new Error(
          `${this.toString()}: answered file ${row.fileId}, the key belongs to ${keyed.existing.id}`,
        );
      return;
    }
    addFile(m, entity, file, row);
  }
  toString(): string {
    const f = this.request;
    const what = f
      ? `${f.slot}, ${f.size} B, ${f.mime}, ${JSON.stringify(f.filename)}${f.key === undefined ? '' : `, key ${f.key}`}`
      : `slot#${this.slotIndex}`;
    return `register_file(${this.ref}, ${what}${this.invalid === 'none' ? '' : ` [invalid ${this.invalid}]`}) as ${this.who}`;
  }
}

export class RemoveFileCommand extends FileCommand {
  constructor(
    fileRef: number,
    readonly who: Who,
  ) {
    super(fileRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const { file, entity } = this.file(m);
    const status = statusOfEntity(entity);
    const allowed =
      mayAct(m, this.who, 'files') &&
      (m.caps.rpc ? status === 'uploading' : status !== 'completed' && status !== 'processing');
    const ownerId = MODEL_USERS[entity.owner]!;
    const actor = (m.caps.rpc ? rpcActorFor : sqlActorFor)(this.who, ownerId, otherUser(entity.owner));
    agree(
      this.toString(),
      allowed,
      await outcome(r.driver.removeFile(r.db, actor, entity.id, file.id)),
      'remove_file',
      this.before,
    );
    if (allowed) removeFiles(m, [file], 'file_removed');
  }
  toString(): string {
    return `remove_file(${this.ref}) as ${this.who}`;
  }
}

export class DeleteEntityCommand extends EntityCommand {
  constructor(
    entityRef: number,
    readonly who: Who,
  ) {
    super(entityRef);
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const status = statusOfEntity(entity);
    const allowed = mayAct(m, this.who, 'files') && status !== null && status !== 'completed';
    const actor = (m.caps.rpc ? rpcActorFor : sqlActorFor)(
      this.who,
      MODEL_USERS[entity.owner]!,
      otherUser(entity.owner),
    );
    agree(
      this.toString(),
      allowed,
      await outcome(r.driver.delete(r.db, actor, entity.id)),
      'delete_upload',
      this.before,
    );
    if (allowed) deleteEntity(m, entity);
  }
  toString(): string {
    return `delete_upload(${this.ref}) as ${this.who}`;
  }
}

/**
 * The happy path in one command, as the owner: begin the upload (or retry it) when it is not
 * uploading, register a valid file for every slot short of its minimum and store the object of
 * every file still waiting for one — each sub-step checked like the single commands, whatever the
 * admins did to the requirements meanwhile. Without it, random sequences rarely line up the steps
 * a completion needs.
 */
export class FillRequirementsCommand extends EntityCommand {
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const ref = () => m.entities.length - 1 - m.entities.indexOf(entity);
    const status = statusOfEntity(entity);
    if (status === 'draft') await new LifecycleOpCommand('begin_upload', ref(), 'owner').step(m, r);
    if (status === 'failed') await new LifecycleOpCommand('retry', ref(), 'owner').step(m, r);
    if (statusOfEntity(entity) !== 'uploading') return;
    for (const [slotIndex, req] of entity.kind.requirements.entries()) {
      const have = filesOf(m, entity.id).filter((f) => f.slot === req.slot).length;
      for (let i = have; i < req.minCount; i++) {
        const before = m.files.length;
        // Keyed as the upload machine keys its files: the same keys on every entity.
        await new RegisterFileCommand(
          ref(),
          'owner',
          slotIndex,
          'none',
          99 + i,
          `fill-${req.slot}-${i}`,
        ).step(m, r);
        if (m.files.length === before) return;
      }
    }
    for (const f of filesOf(m, entity.id)) {
      if (m.objects.has(objectKey(f.bucketId, f.objectPath))) continue;
      const waiting = m.files.filter((x) => !m.objects.has(objectKey(x.bucketId, x.objectPath)));
      // StoreObjectCommand counts waiting files first, newest last: ref 0 is the newest waiting one.
      await new StoreObjectCommand(waiting.length - 1 - waiting.indexOf(f), 'right', false).step(m, r);
    }
  }
  toString(): string {
    return `fill_requirements(${this.ref}) as owner`;
  }
}

/**
 * The recovery path in one command, as the owner: fail the upload (a client error) when it is
 * uploading, then retry it — each sub-step checked like the single commands, so a retry beyond
 * the attempts left is refused as the database must. Random sequences rarely line up an upload,
 * a failure and a retry on one entity without it.
 */
export class FailAndRetryCommand extends EntityCommand {
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const ref = () => m.entities.length - 1 - m.entities.indexOf(entity);
    if (statusOfEntity(entity) === 'uploading')
      await new LifecycleOpCommand('fail', ref(), 'owner').step(m, r);
    if (statusOfEntity(entity) === 'failed') await new LifecycleOpCommand('retry', ref(), 'owner').step(m, r);
  }
  toString(): string {
    return `fail_and_retry(${this.ref}) as owner`;
  }
}

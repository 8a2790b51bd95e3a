/** User-facing commands: create, begin/finalize/fail/retry, register and remove files, delete, fill. */
import { transitionLifecycle, type LifecycleEvent } from '../../../src/machines/lifecycle.js';
import { anon, service, user, type Actor } from '../../support/db.js';
import {
  MODEL_KINDS,
  MODEL_USERS,
  applyEvent,
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
  deleteEntity,
} from './base.js';
import { StoreObjectCommand } from './storage.js';

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
        ? { type: 'finalize', requirementsMet }
        : this.op === 'fail'
          ? { type: 'fail', reason: 'client_error' }
          : { type: this.op };

    let allowed = false;
    let apply: LifecycleEvent | undefined;
    if (status !== null && mayAct(m, this.who, this.op)) {
      if (this.op === 'finalize' && status === 'completed')
        allowed = true; // idempotent
      else if (m.caps.rpc) {
        allowed = transitionLifecycle(entity.snapshot, event).accepted;
        apply = event;
      } else {
        // The SQL driver can only ask for a status: it is the event that leads there, if any.
        apply = eventForStatusChange(entity.snapshot, targetOf(this.op), {
          requirementsMet,
          reason: 'client_error',
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
    agree(this.toString(), allowed, await outcome(call()), this.op);
    if (allowed && apply && applyEvent(m, entity, apply) && apply.type === 'finalize') {
      for (const f of filesOf(m, entity.id)) f.verified = true;
    }
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
  ) {
    super();
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const kind = MODEL_KINDS[this.kindIndex]!;
    const ownerId = MODEL_USERS[this.owner]!;
    const actor: Actor = this.who === 'anon' ? anon : m.caps.rpc ? user(ownerId) : service;
    let id = '';
    const result = await outcome(
      r.driver.create(r.db, actor, ownerId, kind.kind).then((value) => {
        id = value;
      }),
    );
    this.resolved = `e${m.entities.length}`;
    agree(this.toString(), this.who === 'owner', result, 'create_draft');
    if (result.ok)
      m.entities.push({
        id,
        owner: this.owner,
        kind,
        snapshot: newEntitySnapshot(kind),
        exists: true,
        statusSince: m.clock,
      });
  }
  toString(): string {
    const target = this.resolved ? `${this.resolved} = ` : '';
    return `${target}create_draft(${MODEL_KINDS[this.kindIndex]!.kind}, owner u${this.owner}) as ${this.who}`;
  }
}

export class RegisterFileCommand extends EntityCommand {
  constructor(
    entityRef: number,
    readonly who: Who,
    readonly slotIndex: number,
    readonly invalid: FileInvalidity,
    readonly size: number,
  ) {
    super(entityRef);
  }
  private request?: FileRequest;
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const file = fileRequest(entity.kind, this.slotIndex, this.invalid, this.size);
    this.request = file;
    const allowed = mayAct(m, this.who, 'files') && registrationAllowed(m, entity, file);
    const ownerId = MODEL_USERS[entity.owner]!;
    const actor = (m.caps.rpc ? rpcActorFor : sqlActorFor)(this.who, ownerId, otherUser(entity.owner));
    let row: Awaited<ReturnType<LifecycleDriver['register']>> | undefined;
    const result = await outcome(
      r.driver.register(r.db, actor, entity.id, file).then((value) => {
        row = value;
      }),
    );
    agree(this.toString(), allowed, result, 'register_file');
    if (row) addFile(m, entity, file, row);
  }
  toString(): string {
    const f = this.request;
    const what = f
      ? `${f.slot}, ${f.size} B, ${f.mime}, ${JSON.stringify(f.filename)}`
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
      mayAct(m, this.who, 'files') && (m.caps.rpc ? status === 'uploading' : status !== 'completed');
    const ownerId = MODEL_USERS[entity.owner]!;
    const actor = (m.caps.rpc ? rpcActorFor : sqlActorFor)(this.who, ownerId, otherUser(entity.owner));
    agree(
      this.toString(),
      allowed,
      await outcome(r.driver.removeFile(r.db, actor, entity.id, file.id)),
      'remove_file',
    );
    if (allowed) m.files.splice(m.files.indexOf(file), 1);
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
    agree(this.toString(), allowed, await outcome(r.driver.delete(r.db, actor, entity.id)), 'delete_upload');
    if (allowed) deleteEntity(m, entity);
  }
  toString(): string {
    return `delete_upload(${this.ref}) as ${this.who}`;
  }
}

/**
 * The happy path in one command: for every slot short of its minimum, register a valid file as
 * the owner and store its object (each sub-step checked like the single commands). Without it,
 * random sequences rarely line up the five steps a completion needs.
 */
export class FillRequirementsCommand extends EntityCommand {
  async step(m: LifecycleModel, r: Real): Promise<void> {
    const entity = this.entity(m);
    const ref = m.entities.length - 1 - m.entities.indexOf(entity);
    for (const [slotIndex, req] of entity.kind.requirements.entries()) {
      const have = filesOf(m, entity.id).filter((f) => f.slot === req.slot).length;
      for (let i = have; i < req.minCount; i++) {
        const before = m.files.length;
        await new RegisterFileCommand(ref, 'owner', slotIndex, 'none', 99 + i).step(m, r);
        if (m.files.length === before) return;
        await new StoreObjectCommand(0, 'right', false).step(m, r);
      }
    }
  }
  toString(): string {
    return `fill_requirements(${this.ref}) as owner`;
  }
}

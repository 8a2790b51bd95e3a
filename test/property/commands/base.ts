/**
 * The building blocks of the property commands: a command runs its step, then every invariant;
 * the database's answer is compared with the model's; accepted/refused counts per command.
 */
import fc from 'fast-check';
import {
  LIFECYCLE_TRANSITIONS,
  transitionLifecycle,
  type LifecycleEvent,
  type LifecycleEventType,
  type LifecycleSnapshot,
  type UploadStatus,
} from '../../../src/machines/lifecycle.js';
import { type SqlClient } from '../../support/db.js';
import {
  MODEL_USERS,
  statusOfEntity,
  type FileRequest,
  type LifecycleModel,
  type ModelEntity,
  type ModelFile,
} from '../../support/model-lifecycle.js';
import { type LifecycleDriver, type Who } from '../driver.js';
import { checkInvariants, checksClient } from '../invariants.js';
import { checkJobs } from '../../support/model-jobs.js';
import { recordOutcome, stats, type CoverageStatus } from '../stats.js';

export interface Real {
  db: SqlClient;
  driver: LifecycleDriver;
  /** Runs the sweep as service_role; undefined while the sweep is switched off. */
  sweep?: (db: SqlClient) => Promise<unknown>;
}

export type Outcome = { ok: true } | { ok: false; code: string; message: string };

/** Refusals the database is allowed to answer with; anything else is a bug (in SQL or test). */
export const REFUSALS = new Set([
  'UL001',
  'UL002',
  'UL003',
  'UL004',
  'UL005',
  'UL006',
  '42501',
  '23514', // a check constraint (an admin's invalid requirement)
  'NOROW',
  'AccessDenied',
  'Duplicate',
  'EntityTooLarge',
  'InvalidMimeType',
]);

export async function outcome(promise: Promise<unknown>): Promise<Outcome> {
  try {
    await promise;
    return { ok: true };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code && REFUSALS.has(e.code)) return { ok: false, code: e.code, message: e.message ?? '' };
    throw error;
  }
}

/** Counts an outcome in the coverage table (status before, command, accepted/refused). */
export function count(name: string, accepted: boolean, status: CoverageStatus = '-'): void {
  recordOutcome(status, name, accepted);
}

/** The database's answer must be the model's; either way it is counted. */
export function agree(
  what: string,
  allowed: boolean,
  result: Outcome,
  name = what.replace(/\(.*/, ''),
  status: CoverageStatus = '-',
): void {
  count(name, result.ok, status);
  if (allowed && !result.ok)
    throw new Error(`${what}: the model allows it, the database refused (${result.code}: ${result.message})`);
  if (!allowed && result.ok) throw new Error(`${what}: the model forbids it, the database accepted it`);
}

export const otherUser = (owner: number) => MODEL_USERS[(owner + 1) % MODEL_USERS.length]!;

export abstract class LifecycleCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  /** Filled in by `run` so a printed counterexample names what was actually resolved. */
  protected resolved = '';
  check(_m: Readonly<LifecycleModel>): boolean {
    return true;
  }
  async run(m: LifecycleModel, r: Real): Promise<void> {
    const t0 = performance.now();
    await this.step(m, r);
    const t1 = performance.now();
    await checkInvariants(m, r.db);
    await checkJobs(m, checksClient(r.db));
    stats.time.step += t1 - t0;
    stats.time.invariants += performance.now() - t1;
  }
  abstract step(m: LifecycleModel, r: Real): Promise<void>;
  abstract toString(): string;
}

export abstract class EntityCommand extends LifecycleCommand {
  constructor(readonly entityRef: number) {
    super();
  }
  override check(m: Readonly<LifecycleModel>): boolean {
    return m.entities.length > 0;
  }
  /** The addressed entity's status before the command (for the coverage table). */
  protected before: CoverageStatus = '-';
  protected entity(m: LifecycleModel): ModelEntity {
    // 0 is the newest entity: sequences keep working on what they just created.
    const index = m.entities.length - 1 - (this.entityRef % m.entities.length);
    const entity = m.entities[index]!;
    this.resolved = `e${index}`;
    this.before = statusOfEntity(entity) ?? 'deleted';
    return entity;
  }
  protected get ref(): string {
    return this.resolved || `e?${this.entityRef}`;
  }
}

export const targetOf = (event: LifecycleEventType): UploadStatus =>
  LIFECYCLE_TRANSITIONS.find((t) => t.event === event)!.to;

/**
 * The machine's event that changes `snapshot` to `to`, if any (the oracle decides; guards included).
 * A direct `UPDATE … SET status` is exactly that event, or forbidden.
 */
export function eventForStatusChange(
  snapshot: LifecycleSnapshot,
  to: UploadStatus,
  facts: {
    requirementsMet: boolean;
    reason: string;
    processorsRequired?: boolean;
    requiredJobsComplete?: boolean;
  },
): LifecycleEvent | undefined {
  const candidates: LifecycleEvent[] = [
    { type: 'begin_upload' },
    {
      type: 'finalize',
      requirementsMet: facts.requirementsMet,
      processorsRequired: facts.processorsRequired,
    },
    { type: 'processed', requiredJobsComplete: facts.requiredJobsComplete ?? false },
    { type: 'fail', reason: facts.reason },
    { type: 'retry' },
  ];
  return candidates.find((event) => {
    const step = transitionLifecycle(snapshot, event);
    return step.accepted && step.to === to;
  });
}

export type LifecycleOp = 'begin_upload' | 'finalize' | 'fail' | 'retry';

/**
 * Whether `who` may send `op` at all. Through the RPCs: the owner, and service_role where the
 * machine's transition lists `service` among its actors. The SQL driver runs the owner's and
 * service's calls alike as service_role; other users and anon never get through.
 */
export function mayAct(m: LifecycleModel, who: Who, op: LifecycleOp | 'files'): boolean {
  if (who === 'owner') return true;
  if (who !== 'service') return false;
  if (!m.caps.rpc) return true;
  return op !== 'files' && LIFECYCLE_TRANSITIONS.some((t) => t.event === op && t.actors.includes('service'));
}

export function addFile(
  m: LifecycleModel,
  entity: ModelEntity,
  file: FileRequest,
  row: { fileId: string; bucketId: string; objectPath: string },
): void {
  m.files.push({
    id: row.fileId,
    ...(file.key === undefined ? {} : { key: file.key }),
    originalName: file.filename,
    entityId: entity.id,
    slot: file.slot,
    bucketId: row.bucketId,
    objectPath: row.objectPath,
    declaredSize: file.size,
    declaredMime: file.mime,
    verified: false,
    createdAt: m.clock,
  });
}

export abstract class FileCommand extends LifecycleCommand {
  constructor(readonly fileRef: number) {
    super();
  }
  override check(m: Readonly<LifecycleModel>): boolean {
    return m.files.length > 0;
  }
  /** The order refs count in (from the end): newest first, unless a command prefers otherwise. */
  protected order(m: LifecycleModel): ModelFile[] {
    return m.files;
  }
  protected before: CoverageStatus = '-';
  protected file(m: LifecycleModel): { file: ModelFile; entity: ModelEntity } {
    const files = this.order(m);
    const file = files[files.length - 1 - (this.fileRef % files.length)]!;
    const index = m.files.indexOf(file);
    const entity = m.entities.find((e) => e.id === file.entityId)!;
    this.resolved = `file ${index} of e${m.entities.indexOf(entity)}`;
    this.before = statusOfEntity(entity) ?? 'deleted';
    return { file, entity };
  }
  protected get ref(): string {
    return this.resolved || `f?${this.fileRef}`;
  }
}

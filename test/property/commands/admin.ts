/**
 * Admins change a kind while its uploads run (as service_role, straight in SQL, as a dashboard or
 * a migration would): a requirement tightened or loosened, a TTL or the attempt limit changed. The
 * model follows what the database promises for each:
 *   * registration checks the requirement as it stands (0009);
 *   * finalize and the commit-time check judge counts, sizes and types by the requirements as they
 *     stand at completion (0008, 0023) — a completed entity keeps what it was completed under;
 *   * the kind's bucket follows its requirements (0011), so Storage enforces the new limits;
 *   * retry's guard reads max_attempts as it stands (0007); the sweep reads the TTLs as they stand.
 */
import { service } from '../../support/db.js';
import {
  MODEL_KINDS,
  setMaxAttempts,
  type LifecycleModel,
  type ModelRequirement,
} from '../../support/model-lifecycle.js';
import { runAs, sql } from '../sql.js';
import { type Real, outcome, agree, LifecycleCommand } from './base.js';

export type RequirementChange =
  | { field: 'min_count'; value: number }
  | { field: 'max_count'; value: number }
  | { field: 'max_bytes'; value: 'small' | 'original' | 'large' }
  | { field: 'allowed_mime_types'; value: 'original' | 'narrow' | 'other' };

/**
 * The kind an admin command changes: the kind of an entity of the run (by the same newest-first
 * reference as the entity commands), so changes land where uploads run.
 */
function kindIndexOf(m: LifecycleModel, entityRef: number): number {
  const entity = m.entities[m.entities.length - 1 - (entityRef % m.entities.length)]!;
  return m.kinds.indexOf(entity.kind);
}

/** The slot as MODEL_KINDS declares it: what "original" goes back to. */
function original(kindIndex: number, slot: string): ModelRequirement {
  return MODEL_KINDS[kindIndex]!.requirements.find((r) => r.slot === slot)!;
}

export class ChangeRequirementCommand extends LifecycleCommand {
  constructor(
    readonly entityRef: number,
    readonly slotIndex: number,
    readonly change: RequirementChange,
  ) {
    super();
  }
  private kindIndex = -1;
  private described = '';
  override check(m: Readonly<LifecycleModel>): boolean {
    return m.entities.length > 0;
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    this.kindIndex = kindIndexOf(m, this.entityRef);
    const kind = m.kinds[this.kindIndex]!;
    const req = kind.requirements[this.slotIndex % kind.requirements.length]!;
    const next: ModelRequirement = { ...req, allowedMimeTypes: [...req.allowedMimeTypes] };
    const c = this.change;
    const base = original(this.kindIndex, req.slot);
    if (c.field === 'min_count') next.minCount = c.value;
    else if (c.field === 'max_count') next.maxCount = c.value;
    else if (c.field === 'max_bytes')
      next.maxBytes = { small: 50, original: base.maxBytes, large: base.maxBytes * 2 }[c.value];
    else
      next.allowedMimeTypes = {
        original: base.allowedMimeTypes,
        // Narrower: the first type only, with a wildcard made concrete (what fileRequest sends stays valid).
        narrow: [base.allowedMimeTypes[0]!.replace('/*', '/png')],
        // Nothing registered so far is of this type.
        other: ['application/octet-stream'],
      }[c.value];
    this.described = `${kind.kind}.${req.slot} ${c.field} = ${JSON.stringify(
      c.field === 'allowed_mime_types'
        ? next.allowedMimeTypes
        : c.field === 'max_bytes'
          ? next.maxBytes
          : c.value,
    )}`;
    // The table's checks: 0 <= min_count <= max_count, max_count >= 1.
    const allowed = next.minCount >= 0 && next.maxCount >= 1 && next.minCount <= next.maxCount;
    const result = await outcome(
      runAs(
        r.db,
        service,
        sql`update upload_lifecycle.file_requirements
               set min_count = ${next.minCount}, max_count = ${next.maxCount}, max_bytes = ${next.maxBytes},
                   allowed_mime_types = ${`{${next.allowedMimeTypes.join(',')}}`}::text[]
             where kind = ${kind.kind} and slot = ${req.slot}`,
      ),
    );
    agree(this.toString(), allowed, result, `admin: ${c.field}`);
    if (allowed) Object.assign(req, next);
  }
  toString(): string {
    return `admin: set ${this.described || `kind of e?${this.entityRef}, slot#${this.slotIndex} ${this.change.field}`}`;
  }
}

export type KindChange =
  | { field: 'max_attempts'; value: number }
  | { field: 'draft_ttl' | 'upload_ttl' | 'failed_ttl'; hours: number };

export class ChangeKindCommand extends LifecycleCommand {
  constructor(
    readonly entityRef: number,
    readonly change: KindChange,
  ) {
    super();
  }
  private kindIndex = -1;
  override check(m: Readonly<LifecycleModel>): boolean {
    return m.entities.length > 0;
  }
  async step(m: LifecycleModel, r: Real): Promise<void> {
    this.kindIndex = kindIndexOf(m, this.entityRef);
    const kind = m.kinds[this.kindIndex]!;
    const c = this.change;
    const statement =
      c.field === 'max_attempts'
        ? sql`update upload_lifecycle.entity_kinds set max_attempts = ${c.value} where kind = ${kind.kind}`
        : `update upload_lifecycle.entity_kinds set ${c.field} = make_interval(hours => ${c.hours})
             where kind = ${sql`${kind.kind}`}`;
    const result = await outcome(runAs(r.db, service, statement));
    agree(this.toString(), true, result, `admin: ${c.field}`);
    if (c.field === 'max_attempts') setMaxAttempts(m, kind, c.value);
    else if (c.field === 'draft_ttl') kind.draftTtl = c.hours;
    else if (c.field === 'upload_ttl') kind.uploadTtl = c.hours;
    else kind.failedTtl = c.hours;
  }
  toString(): string {
    const c = this.change;
    const value = c.field === 'max_attempts' ? c.value : `${c.hours} h`;
    const kind = MODEL_KINDS[this.kindIndex]?.kind ?? `kind of e?${this.entityRef}`;
    return `admin: set ${kind}.${c.field} = ${value}`;
  }
}

/**
 * The model side of the property tests: the lifecycle machine's pure `transitionLifecycle` (the
 * oracle, never re-implemented here) plus a small model of what the machine does not know about —
 * owners, kinds, file rows and Storage objects — and the one TypeScript definition of
 * "requirements met" the model and the invariants share.
 */
import {
  initialLifecycle,
  lifecycleAt,
  statusOf,
  transitionLifecycle,
  type LifecycleEvent,
  type LifecycleSnapshot,
  type UploadStatus,
} from '../../src/machines/lifecycle.js';
import { mimeAllowed } from '../../src/db/storage-write.js';
import { cancelStaleJobs, type ModelJob } from './model-jobs.js';

export interface ModelRequirement {
  slot: string;
  minCount: number;
  maxCount: number;
  maxBytes: number;
  allowedMimeTypes: string[];
}

/** A processor of a kind (`kind_processors`): finalize gives each matching file a job. */
export interface ModelProcessor {
  processor: string;
  /** Only files of this slot; every slot when absent. */
  slot?: string;
  required: boolean;
  maxAttempts: number;
}

export interface ModelKind {
  kind: string;
  processors?: readonly ModelProcessor[];
  bucketId: string;
  maxAttempts: number;
  /** `entity_kinds.draft_ttl`, `upload_ttl`, `failed_ttl`, in hours (the model clock's unit). */
  draftTtl: number;
  uploadTtl: number;
  failedTtl: number;
  requirements: ModelRequirement[];
}

/** The TTLs of 0003 (1 day, 1 day, 7 days): what a kind gets when it names none. */
const DEFAULT_TTLS = { draftTtl: 24, uploadTtl: 24, failedTtl: 24 * 7 };

/** The kinds every property run declares: different slots, counts, types and attempt limits. */
export const MODEL_KINDS: readonly ModelKind[] = [
  {
    kind: 'report',
    bucketId: 'report-files',
    maxAttempts: 3,
    ...DEFAULT_TTLS,
    requirements: [
      { slot: 'document', minCount: 1, maxCount: 1, maxBytes: 10_000, allowedMimeTypes: ['application/pdf'] },
      { slot: 'photos', minCount: 0, maxCount: 3, maxBytes: 5_000, allowedMimeTypes: ['image/*'] },
    ],
  },
  {
    kind: 'song',
    bucketId: 'song-files',
    maxAttempts: 2,
    // Finalize leads to `processing`: every file gets a required sha256 job, a cover an optional
    // thumbnail job (test/property/commands/jobs.ts claims, completes and fails them).
    processors: [
      { processor: 'sha256', required: true, maxAttempts: 2 },
      { processor: 'thumbnail', slot: 'cover', required: false, maxAttempts: 1 },
    ],
    ...DEFAULT_TTLS,
    requirements: [
      { slot: 'audio', minCount: 1, maxCount: 2, maxBytes: 8_000, allowedMimeTypes: ['audio/mpeg'] },
      { slot: 'cover', minCount: 0, maxCount: 1, maxBytes: 4_000, allowedMimeTypes: ['image/png'] },
    ],
  },
  {
    // Nothing required and a single attempt: `draft → completed` would meet the requirements,
    // so only the transition table stands in its way; and retry is never allowed.
    kind: 'note',
    bucketId: 'note-files',
    maxAttempts: 1,
    ...DEFAULT_TTLS,
    requirements: [
      { slot: 'attachment', minCount: 0, maxCount: 2, maxBytes: 3_000, allowedMimeTypes: ['text/plain'] },
    ],
  },
];

/** Fixed user ids, so counterexamples read the same on every run. */
export const MODEL_USERS = [
  '00000000-0000-4000-8000-00000000000a',
  '00000000-0000-4000-8000-00000000000b',
  '00000000-0000-4000-8000-00000000000c',
] as const;

/** The bucket as `defineKind` creates it: largest slot limit, union of slot types. */
export function bucketLimits(kind: ModelKind): { maxBytes: number; mimeTypes: string[] } {
  return {
    maxBytes: Math.max(...kind.requirements.map((r) => r.maxBytes)),
    mimeTypes: kind.requirements.flatMap((r) => r.allowedMimeTypes),
  };
}

export interface ModelFile {
  id: string;
  /** The client's file key, when it chose one (otherwise the database picks a random one). */
  key?: string;
  originalName: string;
  entityId: string;
  slot: string;
  bucketId: string;
  objectPath: string;
  declaredSize: number;
  declaredMime: string;
  verified: boolean;
  /** Model clock (hours) at registration: activity the sweep looks at. */
  createdAt: number;
}

export interface ModelObject {
  bucketId: string;
  name: string;
  ownerId: string;
  size: number;
  mime: string;
  /** Model clock (hours) of the write: activity the sweep looks at. */
  writtenAt: number;
}

export interface ModelEntity {
  id: string;
  /** Index into MODEL_USERS. */
  owner: number;
  /** The run's (mutable) kind: admins change it while the entity lives. */
  kind: ModelKind;
  snapshot: LifecycleSnapshot;
  /** The client's idempotency key of create_upload_draft, if any. */
  idempotencyKey?: string;
  /** The requirements as they stood when the entity completed: what "completed" promised. */
  completedWith?: ModelRequirement[];
  /** Whether one of its files had its object stored at any time (for the deep-state counts). */
  hadUpload?: boolean;
  /** False once deleted (by its owner or the sweep); the row is gone, its events stay. */
  exists: boolean;
  /** Model clock (hours) when the status last changed: the age the sweep looks at. */
  statusSince: number;
}

export interface Capabilities {
  /** The RPCs of docs/rpc.md are installed: user-facing commands go through them. */
  rpc: boolean;
  /** `storage.objects` has an INSERT policy: user uploads can succeed (the policies gate them). */
  storagePolicies: boolean;
  /** `sweep_upload_lifecycle(now)` exists and the sweep command is switched on. */
  sweep: boolean;
}

/** Why a path is in the deletion outbox (`storage_deletions.reason`). */
export type DeletionReason =
  'file_removed' | 'entity_deleted' | 'draft_expired' | 'failed_expired' | 'orphan';

/** How deep a run went: the states a random sequence rarely reaches without help. */
export interface RunDepth {
  completed: boolean;
  failedAfterUpload: boolean;
  retryAfterFailure: boolean;
}

export interface LifecycleModel {
  caps: Capabilities;
  /** This run's copies of MODEL_KINDS: admin commands change them as they change the database. */
  kinds: ModelKind[];
  /** Highest max_attempts each kind had during the run (replaying old retries needs it). */
  maxAttemptsEver: Map<string, number>;
  entities: ModelEntity[];
  files: ModelFile[];
  objects: Map<string, ModelObject>;
  /** Pending rows of `storage_deletions` by object key: every path whose file row went away. */
  outbox: Map<string, DeletionReason>;
  depth: RunDepth;
  /** Hours the clock has been advanced (the database's timestamps are shifted back as much). */
  clock: number;
  /** The processing jobs finalize created (test/support/model-jobs.ts). */
  jobs: ModelJob[];
}

export function emptyModel(caps: Capabilities): LifecycleModel {
  const kinds = MODEL_KINDS.map((k) => ({ ...k, requirements: k.requirements.map((r) => ({ ...r })) }));
  return {
    caps,
    kinds,
    maxAttemptsEver: new Map(kinds.map((k) => [k.kind, k.maxAttempts])),
    entities: [],
    files: [],
    objects: new Map(),
    outbox: new Map(),
    depth: { completed: false, failedAfterUpload: false, retryAfterFailure: false },
    clock: 0,
    jobs: [],
  };
}

export const objectKey = (bucketId: string, name: string) => `${bucketId}/${name}`;

export function statusOfEntity(entity: ModelEntity): UploadStatus | null {
  return entity.exists ? statusOf(entity.snapshot) : null;
}

export function newEntitySnapshot(kind: ModelKind): LifecycleSnapshot {
  const step = transitionLifecycle(initialLifecycle({ maxAttempts: kind.maxAttempts }), { type: 'create' });
  if (!step.accepted) throw new Error('the lifecycle refuses create');
  return step.snapshot;
}

/**
 * Applies an event to an entity of the model. Returns whether the machine accepted it; only an
 * accepted event changes the entity.
 */
export function applyEvent(model: LifecycleModel, entity: ModelEntity, event: LifecycleEvent): boolean {
  const step = transitionLifecycle(entity.snapshot, event);
  if (!step.accepted) return false;
  entity.snapshot = step.snapshot;
  entity.statusSince = model.clock;
  if (step.to === 'completed') {
    model.depth.completed = true;
    entity.completedWith = entity.kind.requirements.map((r) => ({
      ...r,
      allowedMimeTypes: [...r.allowedMimeTypes],
    }));
    for (const f of filesOf(model, entity.id)) f.verified = true;
  }
  // finalize verifies the files whichever way it goes (processing waits on verified files too).
  if (step.to === 'processing') for (const f of filesOf(model, entity.id)) f.verified = true;
  if (step.to === 'failed' && entity.hadUpload) model.depth.failedAfterUpload = true;
  if (event.type === 'retry') model.depth.retryAfterFailure = true;
  // The database's trigger cancels the jobs of an attempt that is over (cancel_stale_jobs).
  if (step.to === 'failed' || event.type === 'retry') cancelStaleJobs(model, entity, event.type === 'retry');
  return true;
}

/** An admin changed the kind's max_attempts: every entity of the kind is guarded by the new value. */
export function setMaxAttempts(model: LifecycleModel, kind: ModelKind, maxAttempts: number): void {
  kind.maxAttempts = maxAttempts;
  model.maxAttemptsEver.set(kind.kind, Math.max(model.maxAttemptsEver.get(kind.kind) ?? 0, maxAttempts));
  for (const e of model.entities) {
    if (e.kind !== kind) continue;
    const status = statusOf(e.snapshot);
    if (status) e.snapshot = lifecycleAt(status, { ...e.snapshot.context, maxAttempts });
  }
}

/**
 * Removes file rows from the model the way the database does: their paths go to the deletion
 * outbox (0030) with the reason the database gives, unless the path is already pending.
 */
export function removeFiles(
  model: LifecycleModel,
  files: readonly ModelFile[],
  reason: DeletionReason,
): void {
  for (const f of files) {
    const key = objectKey(f.bucketId, f.objectPath);
    if (!model.outbox.has(key)) model.outbox.set(key, reason);
  }
  const gone = new Set(files);
  model.files = model.files.filter((f) => !gone.has(f));
  // A file's jobs (of any attempt) go with it (foreign key, on delete cascade), their artifacts too.
  const goneIds = new Set(files.map((f) => f.id));
  queueArtifacts(
    model,
    model.jobs.filter((j) => goneIds.has(j.fileId)),
    'file_removed',
  );
  model.jobs = model.jobs.filter((j) => !goneIds.has(j.fileId));
}

/**
 * Deleted artifact rows queue their objects (queue_artifact_objects, 0039): `entity_deleted` when
 * the entity went with them, else `file_removed` — whatever deleted the entity.
 */
function queueArtifacts(model: LifecycleModel, jobs: readonly ModelJob[], reason: DeletionReason): void {
  for (const key of jobs.flatMap((j) => j.artifacts ?? []))
    if (!model.outbox.has(key)) model.outbox.set(key, reason);
}

/** Deletes an entity (owner, admin or sweep): its files go, their paths are queued. */
export function deleteEntity(
  model: LifecycleModel,
  entity: ModelEntity,
  reason: DeletionReason = 'entity_deleted',
): void {
  entity.exists = false;
  queueArtifacts(
    model,
    model.jobs.filter((job) => job.entityId === entity.id),
    'entity_deleted',
  );
  model.jobs = model.jobs.filter((job) => job.entityId !== entity.id);
  removeFiles(model, filesOf(model, entity.id), reason);
}

/** Anything with what `problemsOf` needs: the model, or rows read back from the database. */
export interface CompletionFacts {
  ownerId: string;
  kind: ModelKind;
  files: readonly Pick<ModelFile, 'slot' | 'bucketId' | 'objectPath' | 'declaredSize' | 'verified'>[];
  objectAt(bucketId: string, name: string): Pick<ModelObject, 'ownerId' | 'size' | 'mime'> | undefined;
}

/**
 * Why an entity may not be completed (empty: requirements met). Mirrors DESIGN.md §2 "finalize":
 * every requirement's count, every file's object present, owned by the entity's owner, of the
 * declared size and an allowed type; `requireVerified` adds "every file verified".
 */
export function problemsOf(facts: CompletionFacts, requireVerified: boolean): string[] {
  const problems: string[] = [];
  for (const r of facts.kind.requirements) {
    const n = facts.files.filter((f) => f.slot === r.slot).length;
    if (n < r.minCount) problems.push(`slot ${r.slot}: ${n} < ${r.minCount}`);
    if (n > r.maxCount) problems.push(`slot ${r.slot}: ${n} > ${r.maxCount}`);
  }
  for (const f of facts.files) {
    const r = facts.kind.requirements.find((x) => x.slot === f.slot);
    const o = facts.objectAt(f.bucketId, f.objectPath);
    if (!r) problems.push(`${f.objectPath}: unknown slot ${f.slot}`);
    else if (!o) problems.push(`${f.objectPath}: not uploaded`);
    else {
      if (o.ownerId !== facts.ownerId) problems.push(`${f.objectPath}: uploaded by another user`);
      if (o.size !== f.declaredSize) problems.push(`${f.objectPath}: size ${o.size} ≠ ${f.declaredSize}`);
      if (!mimeAllowed(o.mime, r.allowedMimeTypes)) problems.push(`${f.objectPath}: type ${o.mime}`);
    }
    if (r && f.declaredSize > r.maxBytes)
      problems.push(`${f.objectPath}: ${f.declaredSize} B > ${r.maxBytes}`);
    if (requireVerified && !f.verified) problems.push(`${f.objectPath}: not verified`);
  }
  return problems;
}

export function modelFacts(model: LifecycleModel, entity: ModelEntity): CompletionFacts {
  return {
    ownerId: MODEL_USERS[entity.owner]!,
    kind: entity.kind,
    files: model.files.filter((f) => f.entityId === entity.id),
    objectAt: (bucketId, name) => model.objects.get(objectKey(bucketId, name)),
  };
}

export function filesOf(model: LifecycleModel, entityId: string): ModelFile[] {
  return model.files.filter((f) => f.entityId === entityId);
}

export type FileInvalidity = 'none' | 'slot' | 'size_zero' | 'size_big' | 'mime' | 'name';

export interface FileRequest {
  /** The client-chosen file key (`register_upload_file(file_key)`), if any. */
  key?: string;
  slot: string;
  filename: string;
  size: number;
  mime: string;
}

/** The file a register command sends, from a slot choice and how (if at all) it is invalid. */
export function fileRequest(
  kind: ModelKind,
  slotIndex: number,
  invalid: FileInvalidity,
  size: number,
): FileRequest {
  const r = kind.requirements[slotIndex % kind.requirements.length]!;
  const other = kind.requirements.find((x) => x.slot !== r.slot);
  const mime = r.allowedMimeTypes[0]!.replace('/*', '/png');
  return {
    slot: invalid === 'slot' ? 'no_such_slot' : r.slot,
    filename: invalid === 'name' ? '../escape.pdf' : `file-${slotIndex}.bin`,
    size: invalid === 'size_zero' ? 0 : invalid === 'size_big' ? r.maxBytes + 1 : 1 + (size % r.maxBytes),
    mime:
      invalid === 'mime'
        ? (other?.allowedMimeTypes[0]!.replace('/*', '/png') ?? 'application/octet-stream')
        : mime,
  };
}

/** Whether registering `file` on `entity` is allowed (DESIGN.md §2: only while uploading, valid file). */
export function registrationAllowed(model: LifecycleModel, entity: ModelEntity, file: FileRequest): boolean {
  if (statusOfEntity(entity) !== 'uploading') return false;
  const r = entity.kind.requirements.find((x) => x.slot === file.slot);
  if (!r) return false;
  if (file.size <= 0 || file.size > r.maxBytes) return false;
  if (!mimeAllowed(file.mime, r.allowedMimeTypes)) return false;
  if (file.filename.includes('/')) return false;
  return filesOf(model, entity.id).filter((f) => f.slot === file.slot).length < r.maxCount;
}

/*
 * ── Client-chosen keys: what the database promises (0034). ──────────────────────────────────────
 * The one place to update when that contract changes. Keys are scoped: an idempotency key per
 * owner (another owner's identical key is unrelated), a file key per entity.
 */
export const CLIENT_KEYS = {
  /**
   * The same owner sends an idempotency key again with another kind (or other metadata): since
   * 0034 a UL004 naming the key; before it, the existing entity (of the other kind) was answered.
   */
  idempotencyKeyReusedForOtherRequest: 'refused' as 'refused' | 'answers-existing',
  /** The same file key on the same entity with another declaration: UL004 naming the key. */
  fileKeyReusedForOtherFile: 'refused' as const,
};

export type KeyedOutcome<T> =
  { outcome: 'new' } | { outcome: 'existing'; existing: T } | { outcome: 'refused' };

/** What `create_upload_draft(kind, idempotency_key)` by `owner` answers, by the model. */
export function createByKey(
  model: LifecycleModel,
  owner: number,
  kind: ModelKind,
  key: string | undefined,
): KeyedOutcome<ModelEntity> {
  if (key === undefined) return { outcome: 'new' };
  // The lookup is by (owner, key) over every existing row, completed ones included.
  const existing = model.entities.find((e) => e.exists && e.owner === owner && e.idempotencyKey === key);
  if (!existing) return { outcome: 'new' };
  if (existing.kind === kind || CLIENT_KEYS.idempotencyKeyReusedForOtherRequest === 'answers-existing')
    return { outcome: 'existing', existing };
  return { outcome: 'refused' };
}

/**
 * What `register_upload_file(…, file_key)` answers for a key already registered on the entity:
 * the same registration for the same declaration — whatever the entity's status or the current
 * requirements, since nothing new is written — and UL004 for another declaration.
 */
export function registerByKey(
  model: LifecycleModel,
  entity: ModelEntity,
  file: FileRequest,
): KeyedOutcome<ModelFile> {
  if (file.key === undefined) return { outcome: 'new' };
  const existing = model.files.find((f) => f.entityId === entity.id && f.key === file.key);
  if (!existing) return { outcome: 'new' };
  const same =
    existing.slot === file.slot &&
    existing.originalName === file.filename &&
    existing.declaredSize === file.size &&
    existing.declaredMime === file.mime;
  return same ? { outcome: 'existing', existing } : { outcome: 'refused' };
}

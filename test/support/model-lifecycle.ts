/**
 * The model side of the property tests: the lifecycle machine's pure `transitionLifecycle` (the
 * oracle, never re-implemented here) plus a small model of what the machine does not know about —
 * owners, kinds, file rows and Storage objects — and the one TypeScript definition of
 * "requirements met" the model and the invariants share.
 */
import {
  initialLifecycle,
  statusOf,
  transitionLifecycle,
  type LifecycleEvent,
  type LifecycleSnapshot,
  type UploadStatus,
} from '../../src/machines/lifecycle.js';
import { mimeAllowed } from '../../src/db/storage-write.js';

export interface ModelRequirement {
  slot: string;
  minCount: number;
  maxCount: number;
  maxBytes: number;
  allowedMimeTypes: string[];
}

export interface ModelKind {
  kind: string;
  bucketId: string;
  maxAttempts: number;
  requirements: ModelRequirement[];
}

/** The kinds every property run declares: different slots, counts, types and attempt limits. */
export const MODEL_KINDS: readonly ModelKind[] = [
  {
    kind: 'report',
    bucketId: 'report-files',
    maxAttempts: 3,
    requirements: [
      { slot: 'document', minCount: 1, maxCount: 1, maxBytes: 10_000, allowedMimeTypes: ['application/pdf'] },
      { slot: 'photos', minCount: 0, maxCount: 3, maxBytes: 5_000, allowedMimeTypes: ['image/*'] },
    ],
  },
  {
    kind: 'song',
    bucketId: 'song-files',
    maxAttempts: 2,
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
  kind: ModelKind;
  snapshot: LifecycleSnapshot;
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

export interface LifecycleModel {
  caps: Capabilities;
  entities: ModelEntity[];
  files: ModelFile[];
  objects: Map<string, ModelObject>;
  /** Hours the clock has been advanced (the database's timestamps are shifted back as much). */
  clock: number;
  /** The database state last checked (serialized), to skip re-checking what cannot have changed. */
  lastState?: string;
}

export function emptyModel(caps: Capabilities): LifecycleModel {
  return { caps, entities: [], files: [], objects: new Map(), clock: 0 };
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
  return true;
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

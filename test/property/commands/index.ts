/**
 * The commands of the model-based property test. Each command asks the model (the lifecycle
 * machine's `transitionLifecycle` plus the file/object model) whether the operation is allowed,
 * runs it against the database, requires the database to agree, updates the model, and then checks
 * every invariant. `toString()` prints the command the way a counterexample should read.
 *
 * Entities, files and objects are referenced by index into the model's lists (modulo their length),
 * so commands stay meaningful when fast-check shrinks a sequence.
 */

import fc from 'fast-check';
import { UPLOAD_STATUSES } from '../../../src/machines/lifecycle.js';
import {
  MODEL_KINDS,
  MODEL_USERS,
  type FileInvalidity,
  type LifecycleModel,
} from '../../support/model-lifecycle.js';
import { type Who } from '../driver.js';
import { type Real } from './base.js';
import { StoreObjectCommand, RemoveObjectCommand, type ObjectVariant } from './storage.js';
import {
  LifecycleOpCommand,
  CreateDraftCommand,
  RegisterFileCommand,
  RemoveFileCommand,
  DeleteEntityCommand,
  FillRequirementsCommand,
  FailAndRetryCommand,
} from './lifecycle.js';
import {
  DirectUpdateStatusCommand,
  DirectInsertEntityCommand,
  DirectInsertFileCommand,
  DirectVerifyFilesCommand,
  type DirectRole,
} from './direct-sql.js';
import { AdvanceClockCommand, SweepCommand } from './time.js';
import {
  ClaimJobsCommand,
  CompleteJobCommand,
  DirectJobStatusCommand,
  FailJobCommand,
  ProcessUploadCommand,
  RequeueFailedJobCommand,
  type ArtifactVariant,
  type ProcessWork,
  type WorkerName,
} from './jobs.js';
import { JOB_STATUSES } from '../../../src/machines/job.js';
import {
  ChangeKindCommand,
  ChangeRequirementCommand,
  type KindChange,
  type RequirementChange,
} from './admin.js';

const who = fc.constantFrom<Who>('owner', 'owner', 'owner', 'owner', 'other', 'anon', 'service');
const ref = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.nat({ max: 3 }) },
  { weight: 1, arbitrary: fc.nat({ max: 1000 }) },
);
const invalid = fc.constantFrom<FileInvalidity>(
  'none',
  'none',
  'none',
  'none',
  'slot',
  'size_zero',
  'size_big',
  'mime',
  'name',
);
const directRole = fc.constantFrom<DirectRole>('owner', 'other', 'anon', 'service_role', 'superuser');
const status = fc.constantFrom(...UPLOAD_STATUSES);

/** Every command, weighted towards the ones that move entities along the lifecycle. */
const objectVariant = fc.constantFrom<ObjectVariant>(
  'right',
  'right',
  'right',
  'other_owner',
  'wrong_size',
  'wrong_type',
  'wrong_path',
  'other_owner',
);
const owner = fc.nat({ max: MODEL_USERS.length - 1 });
const kind = fc.nat({ max: MODEL_KINDS.length - 1 });
/** Sizes from a short list half the time, so a replayed file key often declares the same file. */
const size = fc.oneof(fc.constantFrom(7, 99), fc.nat({ max: 20_000 }));
const fileArgs = fc.tuple(fc.nat({ max: 3 }), invalid, size);
/**
 * Client-chosen keys come from pools every owner draws from: the same idempotency key is used by
 * two owners, and by one owner for two kinds; the same file key on one entity twice.
 */
const idempotencyKey = fc.constantFrom<string | undefined>(undefined, undefined, 'key-1', 'key-2');
const fileKey = fc.constantFrom<string | undefined>(undefined, undefined, 'file-1', 'file-2');
const requirementChange = fc.oneof(
  fc.nat({ max: 2 }).map((value): RequirementChange => ({ field: 'min_count', value })),
  fc.integer({ min: 0, max: 3 }).map((value): RequirementChange => ({ field: 'max_count', value })),
  fc
    .constantFrom('small', 'original', 'large' as const)
    .map((value): RequirementChange => ({ field: 'max_bytes', value })),
  fc
    .constantFrom('original', 'narrow', 'other' as const)
    .map((value): RequirementChange => ({ field: 'allowed_mime_types', value })),
);
const kindChange = fc.oneof(
  fc.constantFrom(1, 2, 3, 5).map((value): KindChange => ({ field: 'max_attempts', value })),
  fc
    .tuple(
      fc.constantFrom('draft_ttl', 'upload_ttl', 'failed_ttl' as const),
      fc.constantFrom(1, 12, 48, 24 * 7),
    )
    .map(([field, hours]): KindChange => ({ field, hours })),
);

/**
 * Every command with its weight (fc.commands picks uniformly among the list, so a weight is a
 * number of copies), tilted towards the steps that move entities along the lifecycle: most runs
 * complete an entity, fail one after its upload and retry one (the counts are printed after a run).
 */
export function lifecycleCommands(options: { sweep: boolean }) {
  const weighted: [number, fc.Arbitrary<fc.AsyncCommand<LifecycleModel, Real>>][] = [
    [
      2,
      fc
        .tuple(
          owner,
          kind,
          fc.constantFrom<'owner' | 'anon'>('owner', 'owner', 'owner', 'owner', 'anon'),
          idempotencyKey,
        )
        .map(([o, k, w, key]) => new CreateDraftCommand(o, k, w, key)),
    ],
    [2, fc.tuple(ref, who).map(([e, w]) => new LifecycleOpCommand('begin_upload', e, w))],
    [4, ref.map((e) => new FillRequirementsCommand(e))],
    [
      2,
      fc
        .tuple(ref, who, fileArgs, fileKey)
        .map(([e, w, [s, i, n], key]) => new RegisterFileCommand(e, w, s, i, n, key)),
    ],
    [3, fc.tuple(ref, objectVariant).map(([f, v]) => new StoreObjectCommand(f, v, false))],
    [1, fc.tuple(ref, objectVariant).map(([f, v]) => new StoreObjectCommand(f, v, true))],
    [
      1,
      fc
        .tuple(ref, fc.constantFrom<'owner' | 'other' | 'service'>('owner', 'other', 'service'))
        .map(([o, w]) => new RemoveObjectCommand(o, w)),
    ],
    [1, fc.tuple(ref, who).map(([f, w]) => new RemoveFileCommand(f, w))],
    [5, fc.tuple(ref, who).map(([e, w]) => new LifecycleOpCommand('finalize', e, w))],
    [2, fc.tuple(ref, who).map(([e, w]) => new LifecycleOpCommand('fail', e, w))],
    [2, fc.tuple(ref, who).map(([e, w]) => new LifecycleOpCommand('retry', e, w))],
    [2, ref.map((e) => new FailAndRetryCommand(e))],
    [1, fc.tuple(ref, who).map(([e, w]) => new DeleteEntityCommand(e, w))],
    [3, fc.tuple(ref, directRole, status).map(([e, r, s]) => new DirectUpdateStatusCommand(e, r, s))],
    [
      1,
      fc
        .tuple(owner, kind, directRole, status)
        .map(([o, k, r, s]) => new DirectInsertEntityCommand(o, k, r, s)),
    ],
    [
      1,
      fc
        .tuple(ref, directRole, fileArgs)
        .map(([e, r, [s, i, n]]) => new DirectInsertFileCommand(e, r, s, i, n)),
    ],
    [1, fc.tuple(ref, directRole).map(([e, r]) => new DirectVerifyFilesCommand(e, r))],
    [
      2,
      fc
        .tuple(ref, fc.nat({ max: 1 }), requirementChange)
        .map(([e, s, c]) => new ChangeRequirementCommand(e, s, c)),
    ],
    [2, fc.tuple(ref, kindChange).map(([e, c]) => new ChangeKindCommand(e, c))],
    [1, fc.constantFrom(1, 12, 25, 24 * 7 + 1).map((h) => new AdvanceClockCommand(h))],
  ];
  weighted.push(
    [
      1,
      fc
        .tuple(
          owner,
          fc.constantFrom<ProcessWork>('none', 'complete', 'complete', 'bury_optional'),
          fc.boolean(),
          fc.constantFrom<ArtifactVariant>('none', 'none', 'stored', 'missing'),
        )
        .map(([o, work, cover, artifact]) => new ProcessUploadCommand(o, work, cover, artifact)),
    ],
    [1, fc.constantFrom<WorkerName>('w1', 'w2').map((w) => new ClaimJobsCommand(w))],
    [
      1,
      fc
        .tuple(
          ref,
          fc.boolean(),
          fc.constantFrom<ArtifactVariant>('none', 'none', 'stored', 'missing', 'outside'),
        )
        .map(([j, holder, artifact]) => new CompleteJobCommand(j, holder, artifact)),
    ],
    [1, fc.tuple(ref, fc.boolean()).map(([j, retryable]) => new FailJobCommand(j, retryable))],
    // An operator's: requeue a dead letter, or write a job's status directly (rolled back).
    [
      1,
      fc.oneof(
        fc.tuple(ref, fc.boolean()).map(([j, asService]) => new RequeueFailedJobCommand(j, asService)),
        fc
          .tuple(ref, fc.constantFrom(...JOB_STATUSES), fc.constantFrom('superuser', 'service_role' as const))
          .map(([j, to, role]) => new DirectJobStatusCommand(j, to, role)),
      ),
    ],
  );
  if (options.sweep) weighted.push([2, fc.constant(null).map(() => new SweepCommand())]);
  return weighted.flatMap(([n, arbitrary]) => Array.from({ length: n }, () => arbitrary));
}

/** Every run starts from one draft (e0: a report of u0), so no run spends its commands waiting for one. */
export const firstCommand = () => new CreateDraftCommand(0, 0, 'owner');

export { type Real } from './base.js';
export { prepareShiftTimestamps, shiftTimestamps } from './time.js';
export * from './lifecycle.js';
export * from './storage.js';
export * from './direct-sql.js';
export * from './admin.js';
export * from './jobs.js';

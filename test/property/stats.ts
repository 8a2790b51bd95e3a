/**
 * What a property run reached, gathered while it runs and printed after it: accepted/refused per
 * command, the coverage table of (status, command, accepted/refused), how many runs went deep
 * (completed, failed after an upload, retried after a failure), and where the time went.
 * Plain data, so worker threads can send theirs back to be merged.
 */
import { LIFECYCLE_TRANSITIONS, UPLOAD_STATUSES, type UploadStatus } from '../../src/machines/lifecycle.js';
import type { RunDepth } from '../support/model-lifecycle.js';

/** The status of the entity a command addressed, before it ran; `-` for commands without one. */
export type CoverageStatus = UploadStatus | 'deleted' | '-';

export interface RunStats {
  runs: number;
  /** `${status} ${command}` → [accepted, refused]. */
  coverage: Record<string, [number, number]>;
  depth: Record<keyof RunDepth, number>;
  /** Milliseconds spent per phase, and how many invariant checks read the state or skipped it. */
  time: { reset: number; step: number; invariants: number };
  checks: { reads: number; skipped: number; visibility: number };
}

export function emptyStats(): RunStats {
  return {
    runs: 0,
    coverage: {},
    depth: { completed: 0, failedAfterUpload: 0, retryAfterFailure: 0 },
    time: { reset: 0, step: 0, invariants: 0 },
    checks: { reads: 0, skipped: 0, visibility: 0 },
  };
}

/** The stats of the property runs in this thread (reset by the runner before each property). */
export let stats = emptyStats();

export function resetStats(): void {
  stats = emptyStats();
}

export function recordOutcome(status: CoverageStatus, command: string, accepted: boolean): void {
  const cell = (stats.coverage[`${status} ${command}`] ??= [0, 0]);
  cell[accepted ? 0 : 1]++;
}

export function recordRun(depth: RunDepth): void {
  stats.runs++;
  for (const key of Object.keys(depth) as (keyof RunDepth)[]) if (depth[key]) stats.depth[key]++;
}

export function mergeStats(all: readonly RunStats[]): RunStats {
  const out = emptyStats();
  for (const s of all) {
    out.runs += s.runs;
    for (const [key, [a, r]] of Object.entries(s.coverage)) {
      const cell = (out.coverage[key] ??= [0, 0]);
      cell[0] += a;
      cell[1] += r;
    }
    for (const k of Object.keys(out.depth) as (keyof RunDepth)[]) out.depth[k] += s.depth[k];
    for (const k of Object.keys(out.time) as (keyof RunStats['time'])[]) out.time[k] += s.time[k];
    for (const k of Object.keys(out.checks) as (keyof RunStats['checks'])[]) out.checks[k] += s.checks[k];
  }
  return out;
}

/** The RPC commands that are lifecycle events, by the event they send. */
const EVENT_COMMANDS = ['begin_upload', 'finalize', 'fail', 'retry'] as const;

/**
 * What a run must reach, from the lifecycle table: every (status, event) pair is tried; every row
 * of the table is accepted; every guarded row is also refused by its guard; every pair that is not
 * a row is refused; and a draft is created.
 */
export function coverageGaps(s: RunStats): string[] {
  const gaps: string[] = [];
  const cell = (status: string, command: string) => s.coverage[`${status} ${command}`] ?? [0, 0];
  if (cell('-', 'create_draft')[0] === 0) gaps.push('(none) create_draft accepted');
  for (const status of UPLOAD_STATUSES)
    for (const event of EVENT_COMMANDS) {
      const [accepted, refused] = cell(status, event);
      const row = LIFECYCLE_TRANSITIONS.find((t) => t.from === status && t.event === event);
      if (row && accepted === 0) gaps.push(`${status} ${event} accepted (a lifecycle row)`);
      if (row?.guard && refused === 0) gaps.push(`${status} ${event} refused by its guard ${row.guard}`);
      // finalize of a finalized entity answers its state: a no-op, not a transition.
      if ((status === 'completed' || status === 'processing') && event === 'finalize') {
        if (accepted === 0) gaps.push(`${status} finalize accepted as a no-op`);
      } else if (!row && refused === 0) gaps.push(`${status} ${event} refused (not a lifecycle row)`);
    }
  return gaps;
}

const pct = (n: number, of: number) => `${n}/${of} (${of ? Math.round((100 * n) / of) : 0} %)`;

export function formatDepth(s: RunStats): string {
  return (
    `completed ${pct(s.depth.completed, s.runs)}, failed after an upload ${pct(s.depth.failedAfterUpload, s.runs)}, ` +
    `retried after a failure ${pct(s.depth.retryAfterFailure, s.runs)}`
  );
}

/** The coverage table: one line per command, one column per status, `accepted/refused` in each. */
export function formatCoverage(s: RunStats): string {
  const statuses: CoverageStatus[] = ['-', ...UPLOAD_STATUSES, 'deleted'];
  const commands = [...new Set(Object.keys(s.coverage).map((k) => k.slice(k.indexOf(' ') + 1)))].sort();
  const width = Math.max(...commands.map((c) => c.length), 7);
  const head = `${'command'.padEnd(width)} ${statuses.map((x) => x.padStart(13)).join('')}   (accepted/refused by status before)`;
  const lines = commands.map(
    (c) =>
      `${c.padEnd(width)} ${statuses
        .map((st) => {
          const v = s.coverage[`${st} ${c}`];
          return (v ? `${v[0]}/${v[1]}` : '·').padStart(13);
        })
        .join('')}`,
  );
  return [head, ...lines].join('\n');
}

export function formatTime(s: RunStats, wallMs: number): string {
  const t = s.time;
  const other = Math.max(0, wallMs - t.reset - t.step - t.invariants);
  const share = (ms: number) => `${(ms / 1000).toFixed(1)} s (${Math.round((100 * ms) / wallMs)} %)`;
  return (
    `reset ${share(t.reset)}, commands ${share(t.step)}, invariant checks ${share(t.invariants)}, ` +
    `generation and model ${share(other)}; checks: ${s.checks.reads} read the state, ` +
    `${s.checks.skipped} skipped (no write since the last), ${s.checks.visibility} checked visibility`
  );
}

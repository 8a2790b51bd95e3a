/**
 * Benchmark plumbing: every figure is a ratio or a rate measured in one process run, as the
 * median of several rounds, with the spread (min–max) so a noisy machine shows as noise.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** e.g. "≤ 1.5" — compared, reported, never failing the run. */
  target?: string;
  met?: boolean;
  spread?: [number, number];
  rounds?: number;
  /**
   * 90 % confidence interval of the median (percentile bootstrap over the rounds, ≥ 8 rounds):
   * where a target falls inside it, this run can neither claim nor deny it.
   */
  interval?: [number, number];
  note?: string;
}

export interface BenchContext {
  quick: boolean;
  databaseUrl: string | undefined;
  log: (line: string) => void;
}

export type Section = (ctx: BenchContext) => Promise<Figure[]>;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: readonly number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/**
 * The 90 % percentile-bootstrap interval of the median of `values`: 2,000 resamples drawn by a
 * fixed-seed generator (mulberry32), so the same rounds always give the same interval.
 */
export function medianInterval(values: readonly number[], resamples = 2000): [number, number] {
  let state = 0x2545f491;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const medians: number[] = [];
  const sample = new Array<number>(values.length);
  for (let i = 0; i < resamples; i++) {
    for (let j = 0; j < values.length; j++) sample[j] = values[Math.floor(random() * values.length)]!;
    medians.push(median(sample));
  }
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(0.05 * (resamples - 1))]!, medians[Math.ceil(0.95 * (resamples - 1))]!];
}

export async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Runs `a` and `b` alternately `rounds` times and returns per-round ratios a/b (interleaved, so drift hits both). */
export async function ratioRounds(
  rounds: number,
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<{ ratios: number[]; as: number[]; bs: number[] }> {
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so a drift (GC, caches, a busy neighbour) weighs on both alike.
    let x: number;
    let y: number;
    if (i % 2 === 0) {
      x = await a();
      y = await b();
    } else {
      y = await b();
      x = await a();
    }
    as.push(x);
    bs.push(y);
    ratios.push(x / y);
  }
  return { ratios, as, bs };
}

export function figure(
  name: string,
  values: readonly number[],
  unit: string,
  target?: { op: '<=' | '>='; value: number },
  note?: string,
): Figure {
  const value = median(values);
  return {
    name,
    value: Number(value.toFixed(3)),
    unit,
    spread: spread(values).map((v) => Number(v.toFixed(3))) as [number, number],
    rounds: values.length,
    ...(values.length >= 8
      ? { interval: medianInterval(values).map((v) => Number(v.toFixed(3))) as [number, number] }
      : {}),
    ...(target
      ? {
          target: `${target.op === '<=' ? '≤' : '≥'} ${target.value}`,
          met: target.op === '<=' ? value <= target.value : value >= target.value,
        }
      : {}),
    ...(note ? { note } : {}),
  };
}

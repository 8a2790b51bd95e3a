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
    ...(target
      ? {
          target: `${target.op === '<=' ? '≤' : '≥'} ${target.value}`,
          met: target.op === '<=' ? value <= target.value : value >= target.value,
        }
      : {}),
    ...(note ? { note } : {}),
  };
}

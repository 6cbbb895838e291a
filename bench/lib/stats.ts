/** Summary statistics for the benchmark report. Every figure keeps its raw samples beside the summary. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many values the spread is over (runs, or samples). */
  n: number;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The median is the midpoint of the two middle values for an even count (not nearest-rank). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
    n: values.length,
  };
}

/** Rounds for the report: whole numbers from 100 up, else 3 significant digits. */
export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  if (Math.abs(v) >= 100) return Math.round(v);
  return Number(v.toPrecision(3));
}

export function fmt(v: number, unit = ''): string {
  if (Number.isNaN(v)) return 'n/a';
  return `${round(v)}${unit}`;
}

export function fmtSpread(s: Spread, unit = ''): string {
  if (s.n <= 1) return fmt(s.median, unit);
  return `${fmt(s.median, unit)} (${fmt(s.min)}–${fmt(s.max)})`;
}
